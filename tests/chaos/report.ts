// The Markdown report of a chaos run: the load, each fault with its recovery, the time to
// settle and every invariant with its counts.
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
    '',
    '## Faults',
    '',
    'Recovery is measured from the moment the restarted component answers its readiness check to the moment the first order accepted after it reaches its final state.',
    '',
    '| # | component | killed at | down (kill → ready) | recovery (ready → saga progress) |',
    '|---|---|---|---|---|',
    ...faults.map(
      (f, i) =>
        `| ${i + 1} | ${f.component} | ${at(f.killedAt)} | ${seconds(f.readyAt - f.killedAt)} s | ${f.recoveredAt === undefined ? '**none within the limit**' : `${seconds(f.recoveredAt - f.readyAt)} s`} |`,
    ),
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
