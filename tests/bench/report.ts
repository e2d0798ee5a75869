// The benchmark's Markdown report: per offered rate, what was achieved and how fast; the
// database's own limit; the targets; and the comparison with the previous results.
import type { PgbenchResult } from './pgbench.ts';

export interface StepResult {
  offeredPerSecond: number;
  requests: number;
  /** 202 answers that arrived within the measured window, per second. */
  acceptedPerSecond: number;
  /** Every 202 of the measured window's requests, however late. */
  accepted?: number;
  errors: Record<string, number>;
  post: { p50: number; p95: number; p99: number };
  confirmed: { count: number; p50: number | undefined; p95: number | undefined; p99: number | undefined };
  cdcLag: { p50: number | undefined; p99: number | undefined };
  /** From the end of the step to the last confirmation of its orders. */
  drainMs: number;
  /** How late the generator itself sent its most delayed request. */
  generatorLagMs: number;
  resources: Record<string, { cpuPercent: number; memoryMb: number }>;
  /** 202s for ≥ 95% of the offered rate, every order confirmed, placed → CONFIRMED p99 ≤ 1 s. */
  sustained: boolean;
}

export interface BenchResults {
  at: string;
  commit: string;
  label: string;
  machine: { cores: number; memoryGb: number };
  settings: { rates: number[]; warmupSeconds: number; seconds: number; customers: number; products: number; poolSize: number };
  steps: StepResult[];
  pgbench: PgbenchResult;
}

const ms = (value: number | undefined) => (value === undefined ? '–' : `${value}`);
const rate = (value: number) => value.toFixed(1);

export function summarise(results: BenchResults) {
  const sustained = results.steps.filter((s) => s.sustained).map((s) => s.offeredPerSecond);
  const postPeak = Math.max(...results.steps.map((s) => s.acceptedPerSecond));
  const endToEnd = Math.max(0, ...sustained);
  const half = results.steps.find((s) => s.offeredPerSecond === 150) ?? results.steps.filter((s) => s.offeredPerSecond <= 150).at(-1);
  return { endToEnd, postPeak, half, pgbenchPeak: results.pgbench.transactionsPerSecond };
}

/** CPU ms per confirmed order of one step: per component and in total (mean CPU % × window ÷ confirmed orders). */
export function cpuMsPerOrder(step: BenchResults['steps'][number], seconds: number): { total: number; by: Record<string, number> } {
  const confirmed = Math.max(1, step.confirmed.count);
  const by = Object.fromEntries(
    Object.entries(step.resources).map(([component, { cpuPercent }]) => [component, ((cpuPercent / 100) * seconds * 1000) / confirmed]),
  );
  return { total: Object.values(by).reduce((sum, value) => sum + value, 0), by };
}

export function renderReport(results: BenchResults, previous: BenchResults | undefined): string {
  const { endToEnd, postPeak, half, pgbenchPeak } = summarise(results);
  const components = [...new Set(results.steps.flatMap((s) => Object.keys(s.resources)))];
  const lines = [
    `# Benchmark: ${results.at.slice(0, 16).replace('T', ' ')} UTC, commit ${results.commit}${results.label ? ` (${results.label})` : ''}`,
    '',
    `${results.machine.cores} cores, ${results.machine.memoryGb} GB, the whole stack and the load generator on the same machine. ` +
      `Each rate: ${results.settings.warmupSeconds} s warm-up, then ${results.settings.seconds} s measured; ${results.settings.customers} customers, ` +
      `${results.settings.products} products, one line per order, \`tok_ok\`. Method and definitions: [../README.md](../README.md).`,
    '',
    '![latency against offered load](latency.svg)',
    '',
    '## Summary',
    '',
    `| figure | value | target |`,
    `|---|---|---|`,
    `| highest rate sustained end to end | ${endToEnd} orders/s | 300 orders/s |`,
    `| POST /orders peak throughput | ${rate(postPeak)} orders/s | |`,
    `| pgbench, placement transaction, ${results.pgbench.clients} clients | ${rate(pgbenchPeak)} transactions/s (average ${results.pgbench.latencyAverageMs} ms) | |`,
    `| POST /orders peak ÷ pgbench peak | ${((100 * postPeak) / pgbenchPeak).toFixed(0)}% | ≥ 50% |`,
    `| end-to-end sustained ÷ POST /orders peak | ${((100 * endToEnd) / postPeak).toFixed(0)}% | |`,
    `| placed → CONFIRMED p99 at ${half?.offeredPerSecond ?? '–'} orders/s | ${ms(half?.confirmed.p99)} ms | < 250 ms at 150 orders/s |`,
    '',
    '## Per offered rate',
    '',
    'Latencies in ms. POST /orders is timed from the moment each request was due; placed → CONFIRMED from the 202 to the `order-confirmed` record reaching a consumer; CDC lag from the outbox row being written (the start time of its transaction, a few ms before the commit) to the `order-placed` record reaching a consumer.',
    '',
    '| offered/s | accepted/s | errors | POST p50 | p95 | p99 | confirmed | placed→CONFIRMED p50 | p95 | p99 | CDC lag p50 | p99 | drain | sustained |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.steps.map(
      (s) =>
        `| ${s.offeredPerSecond} | ${rate(s.acceptedPerSecond)} | ${
          Object.entries(s.errors)
            .map(([k, n]) => `${n}×${k}`)
            .join(' ') || '0'
        } | ` +
        `${s.post.p50} | ${s.post.p95} | ${s.post.p99} | ${s.confirmed.count}${s.accepted === undefined ? '' : `/${s.accepted}`} | ` +
        `${ms(s.confirmed.p50)} | ${ms(s.confirmed.p95)} | ${ms(s.confirmed.p99)} | ${ms(s.cdcLag.p50)} | ${ms(s.cdcLag.p99)} | ${(s.drainMs / 1000).toFixed(1)} s | ${s.sustained ? 'yes' : 'no'} |`,
    ),
    '',
    '## CPU per confirmed order',
    '',
    'CPU time of every component (summed over the measured window) divided by the orders confirmed in it, in ms; the figure that moves least from day to day on a shared machine.',
    '',
    `| offered/s | total | ${components.join(' | ')} |`,
    `|---|---|${components.map(() => '---').join('|')}|`,
    ...results.steps.map((s) => {
      const perOrder = cpuMsPerOrder(s, results.settings.seconds);
      return `| ${s.offeredPerSecond} | ${perOrder.total.toFixed(1)} | ${components.map((c) => (perOrder.by[c] === undefined ? '–' : perOrder.by[c].toFixed(1))).join(' | ')} |`;
    }),
    '',
    '## CPU and memory per component',
    '',
    'Mean CPU over the measured window in % of one core (the machine has ' +
      `${results.machine.cores * 100}%), and peak memory (PSS: shared pages divided among the processes sharing them) in MB.`,
    '',
    `| offered/s | ${components.join(' | ')} |`,
    `|---|${components.map(() => '---').join('|')}|`,
    ...results.steps.map(
      (s) =>
        `| ${s.offeredPerSecond} | ${components.map((c) => (s.resources[c] ? `${s.resources[c].cpuPercent}% / ${s.resources[c].memoryMb} MB` : '–')).join(' | ')} |`,
    ),
    '',
  ];
  if (previous) {
    const before = summarise(previous);
    lines.push(
      `## Compared with the previous results (${previous.at.slice(0, 16).replace('T', ' ')}, commit ${previous.commit}${previous.label ? `, ${previous.label}` : ''})`,
      '',
      '| figure | previous | now |',
      '|---|---|---|',
      `| highest rate sustained end to end | ${before.endToEnd} | ${endToEnd} |`,
      `| POST /orders peak | ${rate(before.postPeak)} | ${rate(postPeak)} |`,
      `| pgbench peak | ${rate(before.pgbenchPeak)} | ${rate(pgbenchPeak)} |`,
      ...results.steps.map((s) => {
        const old = previous.steps.find((p) => p.offeredPerSecond === s.offeredPerSecond);
        return `| ${s.offeredPerSecond}/s: POST p99, placed→CONFIRMED p99 | ${old ? `${old.post.p99}, ${ms(old.confirmed.p99)}` : '–'} | ${s.post.p99}, ${ms(s.confirmed.p99)} |`;
      }),
      '',
    );
  }
  return lines.join('\n');
}
