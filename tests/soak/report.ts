// The Markdown report of a soak: the set-up, the orders, whether each series stayed flat (in
// figures), and the samples minute by minute.
import { tally } from '../chaos/report.ts';
import { comparisonWindows, TOLERANCE, type Judgement, type Plan, type Unit } from './analysis.ts';
import type { Sample } from './sample.ts';

export interface RestartRecord {
  service: string;
  /** The variables it was started with for the soak. */
  set: Record<string, string>;
  /** Whether they were found in the new process's /proc/<pid>/environ. */
  verified: boolean;
  /** Started again after the soak (or why not)... */
  restored: true | string;
  /** ...with which environment. */
  restoredWith: string;
}

export interface SoakRun {
  startedAt: number;
  endedAt: number;
  interrupted: boolean;
  seed: number;
  ratePerSecond: number;
  plan: Plan & { loadMs: number; idleMs: number; sampleMs: number };
  /** Empty when the services were used as they ran (SOAK_RESTART=0). */
  restarts: RestartRecord[];
  deadline: { ms: number; overdueAfterMs: number } | undefined;
  load: { offered: number; accepted: number; refused: string[]; unanswered: number };
  samples: Sample[];
  judgements: Judgement[];
}

const minutes = (ms: number) => `${+(ms / 60_000).toFixed(2)} min`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const amount = (unit: Unit, value: number | undefined) =>
  value === undefined ? '—' : unit === 'bytes' ? mib(value) : Math.round(value).toLocaleString('en');
const sum = (values: (number | null | undefined)[]) => values.reduce<number>((total, v) => total + (v ?? 0), 0);

function verdict(j: Judgement): string {
  if (j.flat === undefined) return `not judged: ${j.reason ?? 'too few samples'}`;
  if (j.flat) return 'flat';
  const growth =
    j.early && j.late && j.early.mean > 0 ? ` (mean +${(((j.late.mean - j.early.mean) / j.early.mean) * 100).toFixed(0)} %)` : '';
  return `**GROWING**${growth}`;
}

export function renderReport(run: SoakRun): string {
  const { plan, samples } = run;
  const windows = comparisonWindows(plan);
  const at = (t: number) => `+${minutes(t - run.startedAt)}`;
  const judged = run.judgements.filter((j) => j.flat !== undefined);
  const growing = judged.filter((j) => j.flat === false);
  const last = samples.at(-1);
  const finalOrders = last?.orders ?? {};
  const countOf = (prefix: string) => sum(Object.entries(finalOrders).map(([state, n]) => (state.startsWith(prefix) ? n : 0)));
  const heading = run.interrupted
    ? 'interrupted'
    : judged.length === 0
      ? 'too short to judge flatness'
      : growing.length === 0
        ? `all ${judged.length} series flat`
        : `${growing.length} of ${judged.length} series growing`;
  const floors = TOLERANCE.floor;
  const lines = [
    `# Soak run: ${heading}`,
    '',
    `${new Date(run.startedAt).toISOString()}, native stack, ${minutes(run.endedAt - run.startedAt)} of load in cycles of ` +
      `${minutes(plan.loadMs)} at ${run.ratePerSecond} orders/s then ${minutes(plan.idleMs)} idle, sampled every ${minutes(plan.sampleMs)} ` +
      `(${samples.length} samples), seed ${run.seed}.${run.interrupted ? ' **Interrupted before the planned end.**' : ''}`,
    '',
    '## Set-up',
    '',
    run.restarts.length === 0
      ? '- Services used as they ran (SOAK_RESTART=0): their pruning windows are whatever they were started with.'
      : `- Services restarted with ${Object.entries(run.restarts[0]!.set)
          .map(([k, v]) => `\`${k}=${v}\``)
          .join(', ')} before the load: ${run.restarts
          .map(
            (r) =>
              `${r.service} (${r.verified ? 'seen in its environment' : '**not seen in its environment**'}; ${r.restored === true ? `restored afterwards with ${r.restoredWith}` : `**not restored: ${r.restored}**`})`,
          )
          .join(', ')}.`,
    run.deadline
      ? `- Order deadline ${minutes(run.deadline.ms)} (order-svc's \`orders_deadline_seconds\`); a PENDING order counts as overdue once older than ${minutes(run.deadline.overdueAfterMs)} (the deadline plus one interval of the deadline check).`
      : "- Order deadline unknown (order-svc's /metrics has no `orders_deadline_seconds`): overdue orders are not counted.",
    `- Warm-up ${minutes(plan.warmupMs)}; ${
      windows
        ? `compared: the early window ${minutes(windows.early.fromMs)}–${minutes(windows.early.toMs)} with the late window ${minutes(windows.late.fromMs)}–${minutes(windows.late.toMs)} after the start`
        : 'the run is too short for two comparison windows after it'
    }.`,
    `- A series is *flat* when the late window's mean is at most the early window's mean × ${1 + TOLERANCE.relative} plus a floor, and likewise its maximum; ` +
      `floors: ${mib(floors.bytes)} of memory or WAL, ${floors.rows} rows, ${floors.messages} messages of consumer lag. The slope (least squares over the samples after the warm-up) is given for information.`,
    '',
    '## Orders',
    '',
    `- offered: ${run.load.offered}; accepted (202): ${run.load.accepted}; refused: ${tally(run.load.refused)}; never answered within the retry window: ${run.load.unanswered}`,
    `- at the end: ${
      Object.entries(finalOrders)
        .sort((a, b) => b[1] - a[1])
        .map(([state, n]) => `${n} × ${state}`)
        .join(', ') || 'none'
    }`,
    `- confirmed ${countOf('CONFIRMED')}, cancelled ${countOf('CANCELLED')} (of which TIMED_OUT ${countOf('CANCELLED TIMED_OUT')}), PENDING ${countOf('PENDING')}` +
      (last?.overdue === null || last?.overdue === undefined ? '' : `, of which past the deadline: **${last.overdue}**`),
    '',
    '## Flat or growing',
    '',
    '| series | start | end | max | early window mean / max | late window mean / max | slope per hour | verdict |',
    '|---|---|---|---|---|---|---|---|',
    ...run.judgements.map((j) => {
      const u = j.series.unit;
      const window = (w: Judgement['early']) => (w ? `${amount(u, w.mean)} / ${amount(u, w.max)}` : '—');
      const slope = j.slopePerHour === undefined ? '—' : `${j.slopePerHour >= 0 ? '+' : '−'}${amount(u, Math.abs(j.slopePerHour))}`;
      return `| ${j.series.name} | ${amount(u, j.first)} | ${amount(u, j.last)} | ${amount(u, j.max)} | ${window(j.early)} | ${window(j.late)} | ${slope} | ${verdict(j)} |`;
    }),
    '',
  ];
  const notes = run.judgements.flatMap((j) => j.series.notes.map((n) => `- ${j.series.name}: ${n}`));
  const limits = Object.entries(samples[0]?.memory ?? {}).flatMap(([c, m]) =>
    m.heapLimitBytes === undefined ? [] : [`${c} ${mib(m.heapLimitBytes)}`],
  );
  if (limits.length > 0)
    lines.push(`JVM heap limits (-Xmx), which a JVM's RSS may approach before it levels off: ${limits.join(', ')}.`, '');
  if (notes.length > 0) lines.push('Restarts during the run:', '', ...notes, '');
  lines.push(
    '## Samples',
    '',
    'Totals over the service databases, slots and consumer groups; the JSON file next to this report has every figure of every sample.',
    '',
    '| at | phase | orders decided | PENDING | outbox rows | processed_events rows | WAL retained (largest slot) | consumer lag | RSS postgres | RSS kafka | RSS connect | RSS services |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...samples.map((s) => {
      const states = Object.entries(s.orders);
      const services = Object.entries(s.memory).filter(([c]) => !['postgres', 'kafka', 'connect', 'registry'].includes(c));
      return [
        at(s.at),
        s.phase,
        sum(states.map(([state, n]) => (state === 'PENDING' ? 0 : n))),
        sum(states.map(([state, n]) => (state === 'PENDING' ? n : 0))),
        sum(Object.values(s.tables).map((t) => t.outbox)),
        sum(Object.values(s.tables).map((t) => t.processedEvents)),
        mib(Math.max(0, ...Object.values(s.slots).map((w) => w.retainedBytes))),
        sum(Object.values(s.consumerLag)),
        s.memory['postgres'] ? mib(s.memory['postgres'].rssBytes) : '—',
        s.memory['kafka'] ? mib(s.memory['kafka'].rssBytes) : '—',
        s.memory['connect'] ? mib(s.memory['connect'].rssBytes) : '—',
        mib(sum(services.map(([, m]) => m.rssBytes))),
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .concat(' |');
    }),
    '',
  );
  const unread = samples.flatMap((s) => s.missing.map((m) => `- ${at(s.at)}: ${m}`));
  if (unread.length > 0) lines.push('## Not read', '', ...unread, '');
  return lines.join('\n');
}
