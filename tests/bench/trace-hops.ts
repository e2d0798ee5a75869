// What each hop of an order costs, read from Zipkin: for the orders traced in the last
// LOOKBACK_SECONDS (default 60), the median and p95 of every span name's duration, and of the
// CDC gap (a `publish` span's end to the start of the `in kafka` span under it: commit and
// Debezium). Run after a quiet order or after `make bench` at a given rate:
//   stack/bin/with-node node tests/bench/trace-hops.ts            (ZIPKIN_URL, LOOKBACK_SECONDS, LIMIT)
import { causalOrder, type ZipkinSpan } from '../../tools/src/spans.ts';

const zipkin = process.env['ZIPKIN_URL'] ?? 'http://127.0.0.1:9411';
const lookbackMs = Number(process.env['LOOKBACK_SECONDS'] ?? 60) * 1000;
const limit = Number(process.env['LIMIT'] ?? 2000);

const query = new URLSearchParams({
  serviceName: 'order-svc',
  spanName: 'post /orders',
  lookback: String(lookbackMs),
  limit: String(limit),
});
const traces = (await (await fetch(`${zipkin}/api/v2/traces?${query.toString()}`)).json()) as ZipkinSpan[][];

const samples = new Map<string, number[]>();
const add = (name: string, micros: number) => samples.set(name, [...(samples.get(name) ?? []), micros / 1000]);
for (const spans of traces) {
  const byId = new Map(spans.map((span) => [span.id, span]));
  for (const { span } of causalOrder(spans)) {
    const service = span.localEndpoint?.serviceName ?? '?';
    add(`${service}: ${span.name ?? ''}`, span.duration ?? 0);
    const parent = span.parentId ? byId.get(span.parentId) : undefined;
    if (span.name?.endsWith(' in kafka') && parent?.name?.endsWith(' publish')) {
      add(
        `cdc gap: ${parent.name.replace(' publish', '')} → ${service}`,
        (span.timestamp ?? 0) - ((parent.timestamp ?? 0) + (parent.duration ?? 0)),
      );
    }
  }
  const start = Math.min(...spans.map((s) => s.timestamp ?? Infinity));
  const end = Math.max(...spans.map((s) => (s.timestamp ?? 0) + (s.duration ?? 0)));
  add('whole trace (POST to the last span)', end - start);
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
console.log(`${traces.length} traces of the last ${lookbackMs / 1000} s\n`);
console.log('| hop | n | median ms | p95 ms |\n|---|---|---|---|');
for (const [name, values] of [...samples].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`| ${name} | ${values.length} | ${quantile(values, 0.5).toFixed(1)} | ${quantile(values, 0.95).toFixed(1)} |`);
}
