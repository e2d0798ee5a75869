// make soak's analysis: a sample belongs where it was due, and a restart is seen across a
// sample that missed the process.
import { expect, it } from 'vitest';
import { judge, seriesOf, type Plan } from '../soak/analysis.ts';
import type { Sample } from '../soak/sample.ts';

const sample = (at: number, due: number | undefined, memory: Sample['memory']): Sample => ({
  at,
  ...(due === undefined ? {} : { due }),
  phase: 'load',
  memory,
  tables: {},
  slots: {},
  consumerLag: {},
  orders: {},
  overdue: null,
  missing: [],
});
const postgres = (pid: number, bytes: number) => ({ postgres: { pid, processes: 1, rssBytes: bytes, pssBytes: bytes } });

it('places a sample by when it was due, not by a timer that fired a millisecond early', () => {
  const minute = 60_000;
  // 60 min, a sample a minute, 10-minute cycles, 15 min of warm-up: windows 20–30 and 50–60.
  const plan: Plan = { startedAt: 0, durationMs: 60 * minute, warmupMs: 15 * minute, cycleMs: 10 * minute };
  const samples = Array.from({ length: 60 }, (_, k) => sample(k * minute - 1, k * minute, postgres(1, 100)));
  const verdict = judge(
    seriesOf(samples).find((s) => s.name === 'RSS postgres')!,
    plan,
  );
  expect(verdict.early?.samples).toBe(10);
  expect(verdict.late?.samples).toBe(10);
});

it("notes a restart when the process was missing from the sample between, for RSS and for PostgreSQL's PSS", () => {
  const series = seriesOf([sample(0, 0, postgres(1, 100)), sample(1, 1, {}), sample(2, 2, postgres(2, 50))]);
  for (const name of ['RSS postgres', 'PSS postgres']) expect(series.find((s) => s.name === name)?.notes).toHaveLength(1);
});
