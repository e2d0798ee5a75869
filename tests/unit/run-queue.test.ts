// The bench's run-queue figure: each thread's time on a core and waiting for one, between the
// window's two readings of schedstat.
import { expect, it } from 'vitest';
import { runQueueBetween } from '../bench/resources.ts';

const ms = 1e6;

it('counts what a thread read at both ends did in between', () => {
  const start = new Map([[7, { runNs: 10 * ms, waitNs: 4 * ms }]]);
  const end = new Map([[7, { runNs: 25 * ms, waitNs: 34 * ms }]]);
  expect(runQueueBetween(start, end)).toEqual({ runMs: 15, waitMs: 30 });
});

it('counts a thread that started within the window whole, and misses one that ended', () => {
  const start = new Map([
    [7, { runNs: 10 * ms, waitNs: 0 }],
    [8, { runNs: 50 * ms, waitNs: 50 * ms }],
  ]);
  const end = new Map([
    [7, { runNs: 12 * ms, waitNs: 1 * ms }],
    [9, { runNs: 3 * ms, waitNs: 6 * ms }],
  ]);
  expect(runQueueBetween(start, end)).toEqual({ runMs: 5, waitMs: 7 });
});
