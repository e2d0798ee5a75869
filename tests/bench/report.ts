// The benchmark's Markdown report: per offered rate, what was achieved and how fast; the
// database's own limit; the targets; and the comparison with the previous results.
import type { PgbenchResult } from './pgbench.ts';
import type { MachineCpu, RunQueueTimes } from './resources.ts';

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
  /**
   * From the order-placed outbox row's commit to its record reaching a consumer; in runs without
   * `placingTransaction` (before `6578800`), from its transaction's start.
   */
  cdcLag: { p50: number | undefined; p99: number | undefined };
  /** From the placing transaction's start (the outbox row's created_at) to its commit. */
  placingTransaction?: { p50: number | undefined; p99: number | undefined };
  /** From an order's confirmation (the order-confirmed event's time) to its mail handed to SMTP. */
  mailLag?: { p50: number | undefined; p99: number | undefined };
  /** From the end of the step to the last confirmation of its orders. */
  drainMs: number;
  /** How late the generator itself sent its most delayed request. */
  generatorLagMs: number;
  /** The load generator's own CPU over the measured window, % of one core (not in the components' figures). */
  generatorCpuPercent?: number;
  /**
   * placed → CONFIRMED p50 of the orders due in each second of the measured window, in ms (null
   * where none was confirmed): a backlog that grows through the step rises to the end, a
   * transient (a pause, a rebalance) shows as a bump that falls back.
   */
  confirmedP50BySecond?: (number | null)[];
  /**
   * The work each order of the step caused, counted, not timed (the figures that do not move
   * with the day): transactions committed and statements run (BEGIN and COMMIT included: each
   * is a round trip) per order in each service's database, and records
   * written per order to each topic, from the step's start until its orders are confirmed and its mails sent, divided by
   * the orders the step placed (warm-up included). `offsetCommits`: the records the consumers'
   * offset commits wrote to `__consumer_offsets` (one per partition per commit); absent in runs
   * from before it was counted. `consumerRequests`: the services' consumers' requests to the
   * broker by API (their `consumer_kafka_requests_total`); absent in runs from before it was counted.
   */
  perOrder?: {
    transactions: Record<string, number>;
    roundTrips: Record<string, number>;
    records: Record<string, number>;
    offsetCommits?: Record<string, number>;
    consumerRequests?: Record<string, number>;
  };
  resources: Record<string, { cpuPercent: number; memoryMb: number }>;
  /** PostgreSQL's CPU by kind of process (see postgresProcessKind), % of one core; absent in runs from before it was measured. */
  postgresByKind?: Record<string, number>;
  /** Per component, the ms its threads ran and waited for a core over the window (see ResourceSampler.runQueue); absent in runs from before it was measured. */
  runQueue?: Record<string, RunQueueTimes>;
  /** 202s for ≥ 95% of the offered rate, every order confirmed, placed → CONFIRMED p99 ≤ 1 s. */
  sustained: boolean;
}

/** POST /orders driven by clients back to back (closed loop, as pgbench), before the rate steps, order-svc's outbox connector paused. */
export interface PostSaturation {
  clients: number;
  seconds: number;
  requests: number;
  /** 202 answers within the measured window, per second. */
  acceptedPerSecond: number;
  accepted: number;
  errors: Record<string, number>;
  post: { p50: number; p99: number };
  /** Of the accepted orders, how many were confirmed within the drain timeout after. */
  confirmed: number;
  drainMs: number;
  resources: StepResult['resources'];
  generatorCpuPercent?: number;
  /** The whole machine meanwhile, % of one core: processes, interrupts, the hypervisor's steal, idle. */
  machine?: MachineCpu;
}

export interface BenchResults {
  at: string;
  commit: string;
  label: string;
  machine: { cores: number; memoryGb: number };
  settings: { rates: number[]; warmupSeconds: number; seconds: number; customers: number; products: number; poolSize: number };
  steps: StepResult[];
  /** Each component's CPU and memory with no load, over a window as long as a step. */
  idle?: StepResult['resources'];
  /** PostgreSQL's CPU by kind of process with no load. */
  idlePostgresByKind?: Record<string, number>;
  idleRunQueue?: StepResult['runQueue'];
  pgbench: PgbenchResult;
  /** Absent in runs from before it was measured, and with BENCH_PEAK_SECONDS=0. */
  postSaturation?: PostSaturation;
  /** The same burst before it, on a stack that had not run one since it started: not in the summary. */
  warmupPostSaturation?: PostSaturation;
}

/**
 * PostgreSQL's part of the CPU per order, by kind of process: which database's backends, and
 * how much the WAL senders (one per CDC connector, each decoding every database's WAL) and
 * autovacuum take. Less the idle window's, as the components' figures are.
 */
function postgresByKindSection(results: BenchResults): string[] {
  const measured = results.steps.filter((s) => s.postgresByKind && s.confirmed.count > 0);
  if (measured.length === 0) return [];
  const perOrder = (s: StepResult, kind: string) => {
    const busy = Math.max(0, (s.postgresByKind?.[kind] ?? 0) - (results.idlePostgresByKind?.[kind] ?? 0));
    return ((busy / 100) * results.settings.seconds * 1000) / s.confirmed.count;
  };
  const kinds = [...new Set(measured.flatMap((s) => Object.keys(s.postgresByKind!)))].sort(
    (a, b) => measured.reduce((sum, s) => sum + perOrder(s, b), 0) - measured.reduce((sum, s) => sum + perOrder(s, a), 0),
  );
  return [
    "## PostgreSQL's CPU per confirmed order, by process",
    '',
    "The postgres column above, told by process title and less each kind's idle CPU, in ms per order: each database's backends (the statements), the WAL senders (one per CDC connector, each decoding the WAL of every database), autovacuum, the other background processes (checkpointer, WAL writer, …), and the postmaster (with what backends that ended spent after the last sample that saw them).",
    '',
    `| offered/s | ${kinds.join(' | ')} |`,
    `|---|${kinds.map(() => '---').join('|')}|`,
    ...measured.map((s) => `| ${s.offeredPerSecond} | ${kinds.map((kind) => ms(perOrder(s, kind))).join(' | ')} |`),
    '',
  ];
}

type RunQueue = NonNullable<StepResult['runQueue']>;

/** Ms waited for a core per ms run, as the report and the log print it. */
export const waitedPerMsRun = ({ runMs, waitMs }: RunQueueTimes) => (runMs > 0 ? (waitMs / runMs).toFixed(1) : '–');

/** Every component's threads together. */
export const wholeStack = (queue: RunQueue = {}) =>
  Object.values(queue).reduce<RunQueueTimes>((sum, q) => ({ runMs: sum.runMs + q.runMs, waitMs: sum.waitMs + q.waitMs }), {
    runMs: 0,
    waitMs: 0,
  });

/**
 * How long each component's threads waited for a core for each ms they ran: on a full machine
 * every hop of an order waits in the run queue at each wake-up, which no CPU figure shows.
 */
function runQueueSection(results: BenchResults): string[] {
  const rows: [string, RunQueue][] = [];
  if (results.idleRunQueue) rows.push(['idle', results.idleRunQueue]);
  for (const step of results.steps) if (step.runQueue) rows.push([String(step.offeredPerSecond), step.runQueue]);
  if (rows.length === 0) return [];
  const components = [...new Set(rows.flatMap(([, queue]) => Object.keys(queue)))];
  return [
    '## Waiting for a core',
    '',
    "Over each measured window, the time each component's threads spent runnable but waiting for a core (the kernel's run queue, `/proc/<pid>/task/<tid>/schedstat`), per ms they ran: 0 on a machine with cores to spare; on a full one each wake-up of each hop (a fetch answered, a statement's result) waits that much longer than it works.",
    '',
    `| offered/s | all | ${components.join(' | ')} |`,
    `|---|---|${components.map(() => '---').join('|')}|`,
    ...rows.map(
      ([label, queue]) =>
        `| ${label} | ${waitedPerMsRun(wholeStack(queue))} | ${components.map((c) => (queue[c] ? waitedPerMsRun(queue[c]) : '–')).join(' | ')} |`,
    ),
    '',
  ];
}

/** A component's CPU as the tables show it, in whole % of one core (results.json keeps a decimal). */
const wholePercent = (value: number | undefined) => (value === undefined ? '–' : `${Math.round(value)}%`);

/** Milliseconds as a reader wants them: whole above 10, one decimal below. */
export const ms = (value: number | undefined) => (value === undefined ? '–' : value >= 10 ? `${Math.round(value)}` : value.toFixed(1));
const rate = (value: number) => value.toFixed(1);
const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '–');

/**
 * CPU ms per confirmed order of one step, per component and in total: mean CPU % × window ÷
 * orders confirmed. With `idle` (the same components with no load), what they burn anyway is
 * subtracted first, which leaves what the orders cost: the figure that moves least with the
 * rate and with the day. Undefined when no order was confirmed.
 */
export function cpuMsPerOrder(
  step: StepResult,
  seconds: number,
  idle?: StepResult['resources'],
): { total: number; by: Record<string, number> } | undefined {
  if (step.confirmed.count === 0) return undefined;
  const by = Object.fromEntries(
    Object.entries(step.resources).map(([component, { cpuPercent }]) => {
      const busy = Math.max(0, cpuPercent - (idle?.[component]?.cpuPercent ?? 0));
      return [component, ((busy / 100) * seconds * 1000) / step.confirmed.count];
    }),
  );
  return { total: Object.values(by).reduce((sum, value) => sum + value, 0), by };
}

const total = (values: Record<string, number>) => Object.values(values).reduce((sum, value) => sum + value, 0);

/**
 * What each order caused, counted: the round trips and records that CPU per order follows, and
 * that do not move with the machine's day. Empty for runs from before it was counted.
 */
function workPerOrderSection(steps: StepResult[]): string[] {
  const counted = steps.filter((s) => s.perOrder);
  if (counted.length === 0) return [];
  const databases = Object.keys(counted[0]!.perOrder!.transactions);
  const counts = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(1));
  return [
    '## Work per order',
    '',
    "Counted from the step's start until its orders are confirmed and its mails sent, and divided by the orders it placed: round trips to each service's database (statements, from `pg_stat_statements`, BEGIN and COMMIT included), transactions committed in all of them (`pg_stat_database`, a statement outside a transaction counting as one) and records written to all topics, and apart from those the records the consumers' offset commits wrote to `__consumer_offsets` (one per partition committed), and the requests the services' consumers sent to the broker (`consumer_kafka_requests_total`): their fetches, and all the others (offset commits, heartbeats, metadata). Past saturation the drain may end before the last orders are through.",
    '',
    `| offered/s | round trips | ${databases.join(' | ')} | transactions | records | offset commit records | consumers' fetches | their other requests |`,
    `|---|---|${databases.map(() => '---').join('|')}|---|---|---|---|---|`,
    ...counted.map(({ offeredPerSecond, perOrder }) => {
      const { roundTrips, transactions, records, offsetCommits, consumerRequests } = perOrder!;
      const roundTripsCounted = Object.keys(roundTrips).length > 0;
      const fetches = consumerRequests?.['Fetch'];
      const others = consumerRequests ? total(consumerRequests) - (fetches ?? 0) : undefined;
      return `| ${offeredPerSecond} | ${roundTripsCounted ? counts(total(roundTrips)) : '–'} | ${databases.map((d) => counts(roundTrips[d])).join(' | ')} | ${counts(total(transactions))} | ${counts(total(records))} | ${offsetCommits ? counts(total(offsetCommits)) : '–'} | ${counts(fetches)} | ${counts(others)} |`;
    }),
    '',
  ];
}

function postSaturationSection({ postSaturation: peak, warmupPostSaturation: warmup, machine }: BenchResults): string[] {
  if (!peak) return [];
  const cpu = Object.entries(peak.resources)
    .filter(([, r]) => r.cpuPercent >= 1)
    .sort(([, a], [, b]) => b.cpuPercent - a.cpuPercent)
    .map(([name, r]) => `${name} ${wholePercent(r.cpuPercent)}`)
    .join(', ');
  const errors =
    Object.entries(peak.errors)
      .map(([k, n]) => `${n}×${k}`)
      .join(' ') || 'none';
  return [
    '## POST /orders peak',
    '',
    `${peak.clients} clients, each sending its next order as soon as the last is answered (as pgbench's clients do), for ${peak.seconds} s after 2 s of warm-up, on a quiet stack like pgbench's: order-svc's outbox connector is paused meanwhile, and the saga starts on the orders when it resumes. ` +
      `${rate(peak.acceptedPerSecond)} orders/s accepted (${peak.requests} requests), POST p50 ${ms(peak.post.p50)} ms, p99 ${ms(peak.post.p99)} ms, errors: ${errors}. ` +
      `Of the ${peak.accepted} accepted, ${peak.confirmed} were confirmed within ${ms(peak.drainMs / 1000)} s after the connector resumed. ` +
      `CPU meanwhile, in % of one core (the machine has ${machine.cores * 100}%): ${cpu}` +
      `${peak.generatorCpuPercent === undefined ? '' : `; the load generator itself ${peak.generatorCpuPercent}%`}.` +
      (peak.machine
        ? ` The whole machine (/proc/stat): ${peak.machine.busy}% busy in processes, ${peak.machine.softirq}% in network and other soft interrupts, ${peak.machine.steal}% taken by the hypervisor, ${peak.machine.idle}% idle.`
        : '') +
      (warmup
        ? ` The same burst run just before, unmeasured, to warm the stack up: ${rate(warmup.acceptedPerSecond)} orders/s accepted, Connect ${wholePercent(warmup.resources['connect']?.cpuPercent)} of a core.`
        : ''),
    '',
  ];
}

/**
 * The figures the targets are about, each from one run. CPU per order is taken at the highest
 * sustained rate (below it, idle costs weigh more; above it, the backlog blurs the count).
 */
export function summarise(results: BenchResults) {
  const sustainedSteps = results.steps.filter((s) => s.sustained);
  const endToEnd = Math.max(0, ...sustainedSteps.map((s) => s.offeredPerSecond));
  const atSustained = sustainedSteps.find((s) => s.offeredPerSecond === endToEnd);
  // Closed loop finds the peak however high it is; the open-loop steps only up to their highest rate.
  const postPeak = Math.max(results.postSaturation?.acceptedPerSecond ?? 0, ...results.steps.map((s) => s.acceptedPerSecond));
  const half = results.steps.filter((s) => s.offeredPerSecond <= endToEnd / 2).at(-1);
  const at100 = results.steps.find((s) => s.offeredPerSecond === 100);
  // At the highest sustained rate; when none was sustained, at the lowest rate offered.
  const cpuStep = atSustained ?? results.steps[0]!;
  return {
    /** What the stack burns with no load, all components, in % of one core. */
    idleCpuPercent: results.idle ? Math.round(Object.values(results.idle).reduce((sum, r) => sum + r.cpuPercent, 0)) : undefined,
    endToEnd,
    postPeak,
    half,
    at100,
    pgbenchPeak: results.pgbench.transactionsPerSecond,
    cpuStep,
    cpuPerOrder: cpuMsPerOrder(cpuStep, results.settings.seconds)?.total,
    ordersCpu: results.idle ? cpuMsPerOrder(cpuStep, results.settings.seconds, results.idle)?.total : undefined,
  };
}

export function renderReport(results: BenchResults, previous: BenchResults | undefined): string {
  const { endToEnd, postPeak, half, at100, pgbenchPeak, cpuPerOrder, cpuStep, ordersCpu, idleCpuPercent: idleTotal } = summarise(results);
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
    'Targets of issue 16 ("Three times more orders per CPU-second"); ratios are to pgbench in this same run, which moves with the day as much as the stack does.',
    '',
    `| figure | value | target |`,
    `|---|---|---|`,
    `| CPU per confirmed order, all components, at ${cpuStep?.offeredPerSecond ?? '–'} orders/s${endToEnd ? '' : ' (none sustained: the lowest rate)'} | ${ms(cpuPerOrder)} ms | ≤ 6 ms |`,
    `| of which the orders themselves (the idle stack's CPU subtracted) | ${ms(ordersCpu)} ms | |`,
    `| the idle stack, all components | ${idleTotal === undefined ? '–' : `${idleTotal}% of one core`} | |`,
    `| highest rate sustained end to end | ${endToEnd} orders/s | |`,
    `| pgbench, placement statements, ${results.pgbench.clients} clients | ${rate(pgbenchPeak)} transactions/s (average ${ms(results.pgbench.latencyAverageMs)} ms) | |`,
    `| sustained end to end ÷ pgbench | ${percent(endToEnd, pgbenchPeak)} | ≥ 15% |`,
    `| POST /orders peak (${results.postSaturation ? `${results.postSaturation.clients} clients back to back, as pgbench` : 'the highest rate accepted in a step'}) | ${rate(postPeak)} orders/s | |`,
    `| POST /orders peak ÷ pgbench | ${percent(postPeak, pgbenchPeak)} | ≥ 50% |`,
    `| placed → CONFIRMED p99 at half the sustained rate (${half?.offeredPerSecond ?? '–'} orders/s) | ${ms(half?.confirmed.p99)} ms | < 250 ms |`,
    `| CDC lag p99 at 100 orders/s | ${ms(at100?.cdcLag.p99)} ms | < 50 ms |`,
    '',
    '## Per offered rate',
    '',
    "Latencies in ms. POST /orders is timed from the moment each request was due; placed → CONFIRMED from the 202 to the `order-confirmed` record reaching a consumer; CDC lag from the outbox row's commit (PostgreSQL's commit timestamp) to the `order-placed` record reaching a consumer; the placing transaction from its start (the row's `created_at`) to that commit; mail from the order being confirmed to its mail being handed to the SMTP server, measured once every mail of the step is sent.",
    '',
    '| offered/s | accepted/s | errors | POST p50 | p95 | p99 | confirmed | placed→CONFIRMED p50 | p95 | p99 | CDC lag p50 | p99 | placing transaction p50 | p99 | mail p50 | p99 | drain | sustained |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.steps.map(
      (s) =>
        `| ${s.offeredPerSecond} | ${rate(s.acceptedPerSecond)} | ${
          Object.entries(s.errors)
            .map(([k, n]) => `${n}×${k}`)
            .join(' ') || '0'
        } | ` +
        `${ms(s.post.p50)} | ${ms(s.post.p95)} | ${ms(s.post.p99)} | ${s.confirmed.count}${s.accepted === undefined ? '' : `/${s.accepted}`} | ` +
        `${ms(s.confirmed.p50)} | ${ms(s.confirmed.p95)} | ${ms(s.confirmed.p99)} | ${ms(s.cdcLag.p50)} | ${ms(s.cdcLag.p99)} | ${ms(s.placingTransaction?.p50)} | ${ms(s.placingTransaction?.p99)} | ${ms(s.mailLag?.p50)} | ${ms(s.mailLag?.p99)} | ${(s.drainMs / 1000).toFixed(1)} s | ${s.sustained ? 'yes' : 'no'} |`,
    ),
    '',
    '## CPU per confirmed order',
    '',
    results.idle
      ? 'CPU time of every component over the measured window, less what it burns with no load (the idle window measured before the steps), divided by the orders confirmed, in ms: what the orders themselves cost.'
      : 'CPU time of every component (summed over the measured window) divided by the orders confirmed in it, in ms.',
    '',
    `| offered/s | total | ${components.join(' | ')} |`,
    `|---|---|${components.map(() => '---').join('|')}|`,
    ...results.steps.map((s) => {
      const perOrder = cpuMsPerOrder(s, results.settings.seconds, results.idle);
      return `| ${s.offeredPerSecond} | ${ms(perOrder?.total)} | ${components.map((c) => ms(perOrder?.by[c])).join(' | ')} |`;
    }),
    '',
    ...postgresByKindSection(results),
    ...runQueueSection(results),
    ...workPerOrderSection(results.steps),
    ...postSaturationSection(results),
    '## CPU and memory per component',
    '',
    'Mean CPU over the measured window in % of one core (the machine has ' +
      `${results.machine.cores * 100}%), and peak memory (PSS: shared pages divided among the processes sharing them) in MB. ` +
      'The last column is the load generator, which shares the machine but is not part of the stack: it is in none of the totals.',
    '',
    `| offered/s | ${components.join(' | ')} | load generator |`,
    `|---|${components.map(() => '---').join('|')}|---|`,
    ...(results.idle
      ? [
          `| idle | ${components.map((c) => (results.idle?.[c] ? `${wholePercent(results.idle[c].cpuPercent)} / ${results.idle[c].memoryMb} MB` : '–')).join(' | ')} | – |`,
        ]
      : []),
    ...results.steps.map(
      (s) =>
        `| ${s.offeredPerSecond} | ${components.map((c) => (s.resources[c] ? `${wholePercent(s.resources[c].cpuPercent)} / ${s.resources[c].memoryMb} MB` : '–')).join(' | ')} | ` +
        `${s.generatorCpuPercent === undefined ? '–' : `${s.generatorCpuPercent}%`} |`,
    ),
    '',
  ];
  if (previous) {
    const before = summarise(previous);
    lines.push(
      `## Compared with the results checked in before (${previous.at.slice(0, 16).replace('T', ' ')}, commit ${previous.commit}${previous.label ? `, ${previous.label}` : ''})`,
      '',
      'Runs on different days compare only by their ratios and CPU per order; absolute rates move with the machine. CPU ms/order per rate below is without the idle subtraction, as both runs have it.',
      '',
      '| figure | before | now |',
      '|---|---|---|',
      `| CPU per confirmed order (at the highest sustained rate, else the lowest) | ${ms(before.cpuPerOrder)} ms at ${before.cpuStep?.offeredPerSecond ?? '–'}/s | ${ms(cpuPerOrder)} ms at ${cpuStep?.offeredPerSecond ?? '–'}/s |`,
      `| of which the orders themselves | ${ms(before.ordersCpu)} ms | ${ms(ordersCpu)} ms |`,
      `| highest rate sustained end to end | ${before.endToEnd} | ${endToEnd} |`,
      `| pgbench | ${rate(before.pgbenchPeak)} | ${rate(pgbenchPeak)} |`,
      `| sustained ÷ pgbench | ${percent(before.endToEnd, before.pgbenchPeak)} | ${percent(endToEnd, pgbenchPeak)} |`,
      `| POST /orders peak | ${rate(before.postPeak)} | ${rate(postPeak)} |`,
      `| POST /orders peak ÷ pgbench | ${percent(before.postPeak, before.pgbenchPeak)} | ${percent(postPeak, pgbenchPeak)} |`,
      ...results.steps.map((s) => {
        const old = previous.steps.find((p) => p.offeredPerSecond === s.offeredPerSecond);
        const cpu = (step: StepResult, seconds: number) => ms(cpuMsPerOrder(step, seconds)?.total);
        return (
          `| ${s.offeredPerSecond}/s: POST p99, placed→CONFIRMED p99, CPU ms/order | ` +
          `${old ? `${ms(old.post.p99)}, ${ms(old.confirmed.p99)}, ${cpu(old, previous.settings.seconds)}` : '–'} | ` +
          `${ms(s.post.p99)}, ${ms(s.confirmed.p99)}, ${cpu(s, results.settings.seconds)} |`
        );
      }),
      '',
    );
  }
  return lines.join('\n');
}
