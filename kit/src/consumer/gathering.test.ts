import { describe, expect, it } from 'vitest';
import { Gathering } from './gathering.ts';

/** A gathering of strings that records its attempts; a string's key is its first letter. */
function recorded(succeeds = true) {
  const attempts: string[][] = [];
  const gathering = new Gathering<string>({
    keysOf: (part) => [part[0]!],
    applyTogether: async (parts) => {
      attempts.push(parts);
      return Promise.resolve(succeeds);
    },
  });
  return { attempts, gathering };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('a gathering', () => {
  it('applies the parts that arrive in one turn of the event loop together, once', async () => {
    const { attempts, gathering } = recorded();
    const outcomes = await Promise.all([gathering.join('a'), gathering.join('b'), Promise.resolve().then(() => gathering.join('c'))]);
    expect(outcomes).toEqual(['applied', 'applied', 'applied']);
    expect(attempts).toEqual([['a', 'b', 'c']]);
  });

  it('leaves a part that came alone to its caller, without an attempt', async () => {
    const { attempts, gathering } = recorded();
    expect(await gathering.join('a')).toBe('alone');
    expect(attempts).toEqual([]);
  });

  it('gives back a part that does not fit with those taken before it, and applies the rest', async () => {
    const { attempts, gathering } = recorded();
    const outcomes = await Promise.all([gathering.join('a1'), gathering.join('b1'), gathering.join('a2'), gathering.join('c1')]);
    expect(outcomes).toEqual(['applied', 'applied', 'alone', 'applied']);
    expect(attempts).toEqual([['a1', 'b1', 'c1']]);
  });

  it('makes no attempt when only one part fits', async () => {
    const { attempts, gathering } = recorded();
    expect(await Promise.all([gathering.join('a1'), gathering.join('a2')])).toEqual(['alone', 'alone']);
    expect(attempts).toEqual([]);
  });

  it('tells every part of a failed attempt, so that each is applied on its own', async () => {
    const { gathering } = recorded(false);
    expect(await Promise.all([gathering.join('a'), gathering.join('b')])).toEqual(['failed', 'failed']);
  });

  it('opens the next gathering for a part that arrives while an attempt runs', async () => {
    const attempts: string[][] = [];
    let release!: () => void;
    const running = new Promise<void>((resolve) => (release = resolve));
    const gathering = new Gathering<string>({
      keysOf: (part) => [part],
      applyTogether: async (parts) => {
        attempts.push(parts);
        if (attempts.length === 1) await running;
        return true;
      },
    });
    const first = Promise.all([gathering.join('a'), gathering.join('b')]);
    await nextTurn();
    const second = Promise.all([gathering.join('c'), gathering.join('d')]);
    await nextTurn();
    expect(attempts).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    release();
    expect(await first).toEqual(['applied', 'applied']);
    expect(await second).toEqual(['applied', 'applied']);
  });
});
