// The Markdown report of a chaos run: the load, each fault with its recovery and a log of
// every step it took, the time to settle, how the orders ended and every invariant with its
// counts.
import type { StackKind } from '../harness/stack.ts';
import type { Fault, FaultSettings } from './faults.ts';
import type { InvariantResult } from './invariants.ts';
import type { OrderAttempt } from './load.ts';

export interface ChaosRun {
  settings: {
    rounds: number;
    ratePerSecond: number;
    seed: number;
    customers: number;
    products: { stock: number }[];
    faults: FaultSettings;
  };
  stack: StackKind;
  startedAt: number;
  loadStoppedAt: number;
  attempts: OrderAttempt[];
  faults: Fault[];
  settleMs: number | undefined;
  /** Each order's final state: CONFIRMED, PENDING, or CANCELLED followed by its reason. */
  outcomes: string[];
  invariants: InvariantResult[];
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** "3 × a, 1 × b": how often each value occurs, most frequent first. */
export function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return (
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([value, n]) => `${n} × ${value}`)
      .join(', ') || 'none'
  );
}

export function renderReport(run: ChaosRun): string {
  const { settings, attempts, faults } = run;
  const at = (t: number) => `+${seconds(t - run.startedAt)} s`;
  const accepted = attempts.filter((a) => a.outcome === 'accepted');
  const retried = accepted.filter((a) => a.failures.length > 0);
  const holds = run.invariants.every((i) => i.holds) && faults.every((f) => f.recoveredAt !== undefined) && run.settleMs !== undefined;
  const { sessionTimeoutMs, freezeMarginMs, doubleKillWithinMs } = settings.faults;
  const lines = [
    `# Chaos run: ${holds ? 'every invariant holds' : 'FAILED'}`,
    '',
    `${new Date(run.startedAt).toISOString()}, ${run.stack} stack, seed ${settings.seed} (replay with CHAOS_SEED=${settings.seed}), ` +
      `${settings.rounds} round(s) of faults, ${settings.ratePerSecond} orders/s offered for ${seconds(run.loadStoppedAt - run.startedAt)} s ` +
      `by ${settings.customers} customers on ${settings.products.length} products (stock ${settings.products.map((p) => p.stock).join(', ')}).`,
    '',
    '## Load',
    '',
    `- orders offered: ${attempts.length}`,
    `- accepted (202): ${accepted.length}, of which ${retried.length} only after retrying under the same Idempotency-Key`,
    `- refused: ${tally(attempts.filter((a) => a.outcome === 'refused').map((a) => a.failures.at(-1) ?? '?'))}`,
    `- never answered within the retry window: ${attempts.filter((a) => a.outcome === 'unanswered').length}`,
    `- failed attempts that were retried: ${tally(attempts.flatMap((a) => (a.outcome === 'accepted' ? a.failures : [])))}`,
    `- orders as they ended: ${tally(run.outcomes)}`,
    `- cancelled by the order deadline (TIMED_OUT): ${run.outcomes.filter((o) => o === 'CANCELLED TIMED_OUT').length}`,
    '',
    '## Faults',
    '',
    `Kinds: *kill* (SIGKILL to the process group; PostgreSQL an immediate shutdown), then a start; *freeze* (SIGSTOP to the process group for the group session timeout — ${sessionTimeoutMs.service / 1000} s for a service's consumer, ${sessionTimeoutMs.connect / 1000} s for Connect's worker — plus ${seconds(freezeMarginMs[0])}–${seconds(freezeMarginMs[1])} s, then SIGCONT); *double kill* (Kafka killed, started, and killed again within ${doubleKillWithinMs / 1000} s of the first kill, then started).`,
    '',
    "*Out* runs from the first step (kill or SIGSTOP) to the component answering its readiness check after the last step. *Recovery* runs from there to the moment the first order accepted afterwards has both the payment's and the stock's reports (a TIMED_OUT cancellation does not count).",
    '',
    '| # | fault | component | at | out (first step → ready) | recovery (ready → saga progress) |',
    '|---|---|---|---|---|---|',
    ...faults.map(
      (f, i) =>
        `| ${i + 1} | ${f.kind} | ${f.component} | ${at(f.startedAt)} | ${seconds(f.readyAt - f.startedAt)} s | ${f.recoveredAt === undefined ? '**none within the limit**' : `${seconds(f.recoveredAt - f.readyAt)} s`} |`,
    ),
    '',
    '### Fault log',
    '',
    'Every step, with the time it began and the time its command returned (a start returns when the component answers its readiness check).',
    '',
    ...faults.flatMap((f, i) => [
      `${i + 1}. ${f.kind} ${f.component}`,
      ...f.steps.map((s) => `   - ${at(s.at)} → ${at(s.doneAt)}: ${s.action}`),
      `   - ${f.recoveredAt === undefined ? 'no order with both reports within the limit' : `${at(f.recoveredAt)}: first order accepted after that with both reports`}`,
    ]),
    '',
    `Time to settle after the load stopped (every order final, no compensation outstanding): ${run.settleMs === undefined ? '**did not settle**' : `${seconds(run.settleMs)} s`}.`,
    '',
    '## Invariants',
    '',
    '| invariant | holds | counts |',
    '|---|---|---|',
    ...run.invariants.map((i) => `| ${i.name} | ${i.holds ? 'yes' : '**NO**'} | ${i.counts} |`),
    '',
  ];
  for (const invariant of run.invariants.filter((i) => !i.holds)) {
    lines.push(`### Violated: ${invariant.name}`, '', ...invariant.violations.map((v) => `- ${v}`), '');
  }
  return lines.join('\n');
}
