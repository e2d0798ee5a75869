import type * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { Passwords } from './passwords.ts';

// scrypt as node:crypto has it, except that the next `failures.count` calls fail the way an
// exhausted machine fails them (no memory for the 32 MiB, no thread).
const failures = vi.hoisted(() => ({ count: 0, calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  const scrypt = (...args: Parameters<typeof actual.scrypt>) => {
    failures.calls += 1;
    if (failures.count > 0) {
      failures.count -= 1;
      const callback = args.at(-1) as (error: Error | null, key: Buffer) => void;
      process.nextTick(() => callback(new RangeError('Invalid scrypt params: memory limit exceeded'), Buffer.alloc(0)));
      return;
    }
    actual.scrypt(...args);
  };
  return { ...actual, scrypt };
});

describe('Passwords', () => {
  it('verifies the password a hash was made of, and no other', async () => {
    const passwords = new Passwords({ concurrency: 2, queue: 4 });
    const stored = await passwords.hash('correct horse');
    expect(stored).toMatch(/^scrypt\$N=32768,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await passwords.verify('correct horse', stored)).toBe(true);
    expect(await passwords.verify('correct horse ', stored)).toBe(false);
    expect(await passwords.verify('correct horse', 'md5$whatever')).toBe(false);
  });

  it('refuses with 503 TOO_BUSY what does not fit in the queue, and answers the rest', async () => {
    const passwords = new Passwords({ concurrency: 1, queue: 1 });
    const running = passwords.hash('one');
    const queued = passwords.hash('two');
    expect(() => passwords.hash('three')).toThrow(expect.objectContaining({ status: 503, code: 'TOO_BUSY' }));
    await expect(Promise.all([running, queued])).resolves.toHaveLength(2);
  });

  it('with no queue (PASSWORD_HASH_QUEUE=0) answers what finds a free slot, and refuses only the rest', async () => {
    const passwords = new Passwords({ concurrency: 1, queue: 0 });
    const running = passwords.hash('one');
    expect(() => passwords.hash('two')).toThrow(expect.objectContaining({ status: 503, code: 'TOO_BUSY' }));
    await expect(running).resolves.toMatch(/^scrypt\$/);
    await expect(passwords.hash('three')).resolves.toMatch(/^scrypt\$/);
  });

  it('makes the decoy hash again after it failed to be made, rather than failing every unknown login from then on', async () => {
    const passwords = new Passwords({ concurrency: 1, queue: 4 });
    failures.count = 1;
    await expect(passwords.spendVerificationTime('guess')).rejects.toThrow(/memory limit/);
    const callsBefore = failures.calls;
    await expect(passwords.spendVerificationTime('guess')).resolves.toBeUndefined();
    // The decoy made anew, then the guess checked against it; a third login reuses that decoy.
    expect(failures.calls - callsBefore).toBe(2);
    await passwords.spendVerificationTime('another guess');
    expect(failures.calls - callsBefore).toBe(3);
  });
});
