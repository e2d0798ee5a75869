import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { applyByKey } from './by-key.ts';

const event = (key: string, n: number) => ({ key, n });
const keyOf = ({ key }: { key: string }) => key;

describe('applyByKey', () => {
  it('one at a time: in the batch order', async () => {
    const seen: number[] = [];
    await applyByKey([event('a', 1), event('b', 2), event('a', 3)], keyOf, 1, async ({ n }) => {
      await sleep(n === 1 ? 5 : 0);
      seen.push(n);
    });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('in parallel: each key in its order, at most `parallel` at once, every event once', async () => {
    const events = [event('a', 1), event('b', 2), event('a', 3), event('c', 4), event('d', 5), event('b', 6), event('a', 7)];
    const seen: { key: string; n: number }[] = [];
    let running = 0;
    let most = 0;
    await applyByKey(events, keyOf, 2, async (e) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(e.n % 3);
      seen.push(e);
      running -= 1;
    });
    expect(most).toBe(2);
    expect(seen).toHaveLength(events.length);
    for (const key of ['a', 'b', 'c', 'd']) {
      expect(seen.filter((e) => e.key === key).map((e) => e.n)).toEqual(events.filter((e) => e.key === key).map((e) => e.n));
    }
  });

  it('a failure is thrown after the keys under way have finished, and no new key starts', async () => {
    const finished: number[] = [];
    const outcome = applyByKey([event('a', 1), event('b', 2), event('c', 3), event('d', 4)], keyOf, 2, async ({ n }) => {
      if (n === 1) throw new Error('bad event');
      await sleep(20);
      finished.push(n);
    });
    await expect(outcome).rejects.toThrow('bad event');
    // b was under way when a failed: it finished before the failure was thrown. c and d never started.
    expect(finished).toEqual([2]);
  });
});
