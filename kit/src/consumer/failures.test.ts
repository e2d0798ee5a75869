import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyFailure, DependencyUnavailable } from './failures.ts';

describe('classifyFailure', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a closed postgres.js connection', Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' })],
    ['an administrator shutdown (57P01)', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['a server starting up (57P03)', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['a serialization failure (40001)', Object.assign(new Error('could not serialize'), { code: '40001' })],
    ['a deadlock (40P01)', Object.assign(new Error('deadlock detected'), { code: '40P01' })],
    ['a rejected password (28P01)', Object.assign(new Error('password authentication failed for user "orders"'), { code: '28P01' })],
    ['a refused login (28000)', Object.assign(new Error('no pg_hba.conf entry for host'), { code: '28000' })],
    ['a missing database (3D000)', Object.assign(new Error('database "orders" does not exist'), { code: '3D000' })],
    ['a revoked grant (42501)', Object.assign(new Error('permission denied for table orders'), { code: '42501' })],
    ['a postgres.js connect timeout', Object.assign(new Error('write CONNECT_TIMEOUT 127.0.0.1:5433'), { code: 'CONNECT_TIMEOUT' })],
    ['a call given up by AbortSignal.timeout()', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
    ['an aborted fetch', new DOMException('This operation was aborted', 'AbortError')],
    ['an unreachable registry', Object.assign(new Error('connect ECONNREFUSED'), { name: 'ResponseError', status: 400 })],
    ['a registry error', Object.assign(new Error('internal'), { name: 'ResponseError', status: 500 })],
    ['a Kafka error', Object.assign(new Error('broker gone'), { name: 'KafkaJSConnectionError' })],
    ['an unavailable dependency a handler reports', new DependencyUnavailable('the gateway answered 503')],
    [
      'a fetch failure caused by a socket error',
      new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }),
    ],
  ])('%s is an outage', (_case, error) => {
    expect(classifyFailure(error)).toBe('infrastructure');
  });

  it.each([
    ['a handler bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a unique violation (23505)', Object.assign(new Error('duplicate key'), { code: '23505' })],
    ['a check violation (23514)', Object.assign(new Error('violates check constraint'), { code: '23514' })],
    ['bad input syntax (22P02)', Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' })],
    ['an undefined column (42703), a bug not a grant', Object.assign(new Error('column "x" does not exist'), { code: '42703' })],
    ['an unknown schema id', Object.assign(new Error('Schema not found'), { name: 'ResponseError', status: 404 })],
    ['a thrown string', 'nope'],
    ['a thrown object without a prototype', Object.create(null) as object],
    ['an error that is its own cause', ((error: Error) => Object.assign(error, { cause: error }))(new Error('loop'))],
  ])('%s is the message’s fault', (_case, error) => {
    expect(classifyFailure(error)).toBe('message');
  });
});

describe('classifyFailure, with real errors rather than look-alikes', () => {
  // The signals have fired before fetch is called, so fetch rejects at once: no I/O.
  it('waits out a fetch that AbortSignal.timeout() gave up on', async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    const error = await fetch('http://127.0.0.1:9/', { signal }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect(classifyFailure(error)).toBe('infrastructure');
  });

  it('waits out a fetch that was aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await fetch('http://127.0.0.1:9/', { signal: controller.signal }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(classifyFailure(error)).toBe('infrastructure');
  });
});

describe('backoffDelay', () => {
  const settings = { baseMs: 100, maxMs: 5_000 };

  it('doubles with each attempt, between half and all of the ceiling', () => {
    expect(backoffDelay(1, settings, () => 0)).toBe(50);
    expect(backoffDelay(1, settings, () => 1)).toBe(100);
    expect(backoffDelay(4, settings, () => 0)).toBe(400);
    expect(backoffDelay(4, settings, () => 1)).toBe(800);
  });

  it('never exceeds the maximum', () => {
    expect(backoffDelay(30, settings, () => 1)).toBe(5_000);
    expect(backoffDelay(1_000, settings, () => 0.5)).toBeLessThanOrEqual(5_000);
  });
});
