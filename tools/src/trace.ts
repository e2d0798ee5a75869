// make trace ORDER=<id>: the traces of one order in Zipkin (every span carrying its id, the
// shop.order_id tag), each with its link and a one-screen summary: when each hop started after
// the trace's first span, how long it took, in which service. Between a `publish` span (the
// outbox row written) and the `in kafka` span after it lies the commit and CDC's time; the
// `in kafka` span is the record's time in Kafka; `process` is the consumer's work.
import { UUID_PATTERN } from '@shop/kit';
import { UsageError } from './options.ts';
import { fetchFrom } from './http.ts';
import { runCommand, writeLine } from './inspect.ts';
import { causalOrder, type ZipkinSpan } from './spans.ts';

const ms = (micros: number) => (micros / 1000).toFixed(1).padStart(8);

await runCommand('trace', async () => {
  const order = process.env['ORDER'];
  if (!order || !UUID_PATTERN.test(order)) throw new UsageError('usage: make trace ORDER=<order id>');
  const zipkin = process.env['ZIPKIN_URL'] ?? 'http://127.0.0.1:9411';
  const query = new URLSearchParams({ annotationQuery: `shop.order_id=${order}`, lookback: String(7 * 24 * 3_600_000), limit: '20' });
  const response = await fetchFrom('Zipkin', `${zipkin}/api/v2/traces?${query.toString()}`);
  if (!response.ok) throw new Error(`Zipkin answered ${response.status}: ${await response.text()}`);
  const traces = ((await response.json()) as ZipkinSpan[][]).sort((a, b) => (a[0]?.timestamp ?? 0) - (b[0]?.timestamp ?? 0));
  if (traces.length === 0) {
    process.stderr.write(`trace: Zipkin has no span of order ${order} (tracing off, not sampled, or older than Zipkin's memory)\n`);
    return 1;
  }
  for (const spans of traces) {
    const start = Math.min(...spans.map((span) => span.timestamp ?? Infinity));
    const end = Math.max(...spans.map((span) => (span.timestamp ?? 0) + (span.duration ?? 0)));
    await writeLine(`${zipkin}/zipkin/traces/${spans[0]!.traceId}  (${spans.length} spans, ${ms(end - start).trim()} ms)`);
    await writeLine(`${'start ms'.padStart(8)} ${'took ms'.padStart(8)}  ${'service'.padEnd(17)} hop`);
    for (const { span, depth } of causalOrder(spans)) {
      const service = span.localEndpoint?.serviceName ?? '?';
      await writeLine(
        `${ms((span.timestamp ?? start) - start)} ${ms(span.duration ?? 0)}  ${service.padEnd(17)} ${'  '.repeat(depth)}${span.name ?? ''}`,
      );
    }
  }
  return 0;
});
