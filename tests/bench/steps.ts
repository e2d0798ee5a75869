// What `make bench` and `make bench-floor` share about their steps: the rates and windows
// the environment chooses, how a step's latencies are summarised, and which code was run.
import { execFileSync } from 'node:child_process';
import { repositoryRoot } from '../harness/stack.ts';

/** The offered rates (orders/s) from `ratesVariable`, and each step's warm-up and measured window. */
export const stepTiming = (ratesVariable: string) => ({
  rates: (process.env[ratesVariable] ?? '25,50,100,200,300,400').split(',').map(Number),
  warmupMs: Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5) * 1000,
  durationMs: Number(process.env['BENCH_SECONDS'] ?? 20) * 1000,
});

/** The nearest-rank percentile; undefined for no values. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * The commit whose code is measured, with `-dirty` when a file other than the checked-in
 * results differs from it: a run writes its results into the tree, and the run after it must
 * not take them for uncommitted code.
 */
export function measuredCommit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repositoryRoot, encoding: 'utf8' }).trim();
  const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)tests/bench/results');
  return `${git('rev-parse', '--short=7', 'HEAD')}${changed ? '-dirty' : ''}`;
}
