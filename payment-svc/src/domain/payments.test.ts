import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { askUntilDefinite, nextAttemptAt, type RetrySettings } from './payments.ts';

const retry: RetrySettings = {
  quickAttempts: 3,
  quickBackoff: { baseMs: 1, maxMs: 5 },
  callTimeoutMs: 200,
  jobBackoff: { baseMs: 1_000, maxMs: 60_000 },
};

/** An ask that answers the given verdicts in turn, taking `ms` each, and counts its calls. */
function asker(kinds: string[], ms = 0) {
  const ask = async () => {
    ask.calls += 1;
    if (ms) await sleep(ms);
    return { kind: kinds[Math.min(ask.calls, kinds.length) - 1]! };
  };
  ask.calls = 0;
  return ask;
}

describe("an event handler's quick burst of gateway calls", () => {
  it('stops at the first definite answer', async () => {
    const ask = asker(['unknown', 'charged']);
    expect(await askUntilDefinite(retry, 3, ask)).toEqual({ kind: 'charged' });
    expect(ask.calls).toBe(2);
  });

  it('gives up without a definite answer after its calls', async () => {
    const ask = asker(['unknown']);
    expect(await askUntilDefinite(retry, 3, ask)).toEqual({ kind: 'unknown' });
    expect(ask.calls).toBe(3);
  });

  it('asks no more once a call timeout has passed in all: a silent gateway costs one timeout, not three', async () => {
    const ask = asker(['unknown'], 250);
    expect(await askUntilDefinite(retry, 3, ask)).toEqual({ kind: 'unknown' });
    expect(ask.calls).toBe(1);
  });
});

it('schedules the next try with a doubling delay, jittered and capped', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const delay = (attempts: number) => nextAttemptAt(retry, attempts, now).getTime() - now.getTime();
  expect(delay(1)).toBeGreaterThanOrEqual(500);
  expect(delay(1)).toBeLessThanOrEqual(1_000);
  expect(delay(3)).toBeGreaterThanOrEqual(2_000);
  expect(delay(3)).toBeLessThanOrEqual(4_000);
  expect(delay(30)).toBeGreaterThanOrEqual(30_000);
  expect(delay(30)).toBeLessThanOrEqual(60_000);
});
