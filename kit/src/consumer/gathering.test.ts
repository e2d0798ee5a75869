import { describe, expect, it } from 'vitest';
import { Gathering } from './gathering.ts';

describe('a gathering', () => {
  it('applies the parts that arrive in one turn of the event loop together, once', async () => {
    const attempts: string[][] = [];
    const gathering = new Gathering<string>(async (parts) => {
      attempts.push(parts);
      return Promise.resolve(true);
    });
    const outcomes = await Promise.all([gathering.join('a'), gathering.join('b'), Promise.resolve().then(() => gathering.join('c'))]);
    expect(outcomes).toEqual(['applied', 'applied', 'applied']);
    expect(attempts).toEqual([['a', 'b', 'c']]);
  });

  it('leaves a part that came alone to its caller, without an attempt', async () => {
    const attempts: string[][] = [];
    const gathering = new Gathering<string>(async (parts) => {
      attempts.push(parts);
      return Promise.resolve(true);
    });
    expect(await gathering.join('a')).toBe('alone');
    expect(attempts).toEqual([]);
  });

  it('tells every part of a failed attempt, so that each is applied on its own', async () => {
    const gathering = new Gathering<string>(async () => Promise.resolve(false));
    expect(await Promise.all([gathering.join('a'), gathering.join('b')])).toEqual(['failed', 'failed']);
  });

  it('opens the next gathering for a part that arrives while an attempt runs', async () => {
    const attempts: string[][] = [];
    let release!: () => void;
    const running = new Promise<void>((resolve) => (release = resolve));
    const gathering = new Gathering<string>(async (parts) => {
      attempts.push(parts);
      if (attempts.length === 1) await running;
      return true;
    });
    const first = Promise.all([gathering.join('a'), gathering.join('b')]);
    await new Promise((resolve) => setImmediate(resolve));
    const second = Promise.all([gathering.join('c'), gathering.join('d')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    release();
    expect(await first).toEqual(['applied', 'applied']);
    expect(await second).toEqual(['applied', 'applied']);
  });
});
