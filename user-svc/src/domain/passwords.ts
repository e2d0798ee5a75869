import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import { userProblems } from './problems.ts';

// scrypt is memory-hard: each guess costs 128·N·r bytes (32 MiB here) as well as time, which
// is what makes offline guessing on GPUs expensive. Parameters are stored with each hash, so
// they can be raised later without invalidating existing passwords.
const parameters = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 256 * options.N! * options.r! }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export interface PasswordWorkLimits {
  /** scrypt computations at once (each holds 32 MiB and a libuv thread). */
  concurrency: number;
  /** How many more may wait for one; past that a request is refused with 503 at once. */
  queue: number;
}

/**
 * Password hashing and checking, at most `concurrency` at once. Every registration, login and
 * password change costs a 32 MiB scrypt; without a bound, a flood of them (rotating usernames
 * defeats a per-account login limit) would take all memory and every libuv thread, and the
 * service would stop answering anything. With it, the excess waits in a short queue, and what
 * does not fit is answered 503 TOO_BUSY with Retry-After at once, while the rest of the API
 * keeps answering.
 */
export class Passwords {
  private readonly limit: LimitFunction;
  /** Checks under way and waiting, at most. */
  private readonly capacity: number;
  // Verifying against a hash of nothing when the account does not exist makes a wrong
  // username take as long as a wrong password, so response times do not reveal which
  // accounts exist.
  private decoy: Promise<string> | undefined;

  constructor(limits: PasswordWorkLimits) {
    this.limit = pLimit(limits.concurrency);
    this.capacity = limits.concurrency + limits.queue;
  }

  private run<T>(work: () => Promise<T>): Promise<T> {
    // Counted together: p-limit starts a call on a later tick, so one that finds a free slot
    // is pending for a moment, and a queue of 0 would refuse every call on the pending count alone.
    if (this.limit.activeCount + this.limit.pendingCount >= this.capacity) {
      throw userProblems.TOO_BUSY('Too many password checks are under way; retry in a moment.', { 'retry-after': '1' });
    }
    return this.limit(work);
  }

  /** `scrypt$N=32768,r=8,p=1$<salt>$<hash>`, base64. */
  hash(password: string): Promise<string> {
    return this.run(() => hashWith(password));
  }

  verify(password: string, stored: string): Promise<boolean> {
    return this.run(() => verifyWith(password, stored));
  }

  async spendVerificationTime(password: string): Promise<void> {
    // A decoy that failed to be made is made again next time, not kept as a failure for ever.
    this.decoy ??= hashWith(randomBytes(16).toString('hex')).catch((error: unknown) => {
      this.decoy = undefined;
      throw error;
    });
    const decoy = await this.decoy;
    await this.verify(password, decoy);
  }
}

async function hashWith(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, parameters);
  const { N, r, p } = parameters;
  return `scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

async function verifyWith(password: string, stored: string): Promise<boolean> {
  const [scheme, params, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !params || !salt || !hash) return false;
  const options = Object.fromEntries(
    params
      .split(',')
      .map((pair) => pair.split('='))
      .map(([k, v]) => [k, Number(v)]),
  ) as ScryptOptions;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), options);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
