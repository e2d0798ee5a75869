// Which failures are the message's fault and which are an outage of something the consumer
// depends on. The first kind is retried a bounded number of times and then dead-lettered;
// the second is waited out, however long it lasts, because the message itself is fine.

/** SQLSTATE classes and codes that say "the database is unavailable or busy", not "this data is wrong". */
const transientSqlStates = [
  /^08/, // connection exception
  /^53/, // insufficient resources
  /^57/, // operator intervention: shutdown, crash recovery, cannot connect now
  /^58/, // system error (I/O)
  /^40001$/, // serialization failure
  /^40P01$/, // deadlock detected
  /^55P03$/, // lock not available
  /^25006$/, // read-only transaction (a standby during failover)
  // Reachable but refusing: a rotated password, a revoked grant, a database being restored.
  // The message is not to blame, and an operator's fix lets it through unchanged.
  /^28P01$/, // invalid password
  /^28000$/, // invalid authorization specification (pg_hba.conf, a role that may not log in)
  /^3D000$/, // the database does not exist
  /^42501$/, // insufficient privilege
];

/** postgres.js connection errors and Node socket errors. */
const transientClientCodes = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * What an abort says about a call: `TimeoutError` is AbortSignal.timeout() giving up on an
 * answer (fetch rejects with it), `AbortError` a call abandoned before one came. Either way
 * the other side did not answer; nothing says the message was wrong.
 */
const abandonedCallNames = new Set(['TimeoutError', 'AbortError']);

export type FailureKind = 'infrastructure' | 'message';

/**
 * Thrown by a handler when something it calls (an external API, say) is unavailable: the
 * event is then retried until that dependency is back, like an outage of the database.
 */
export class DependencyUnavailable extends Error {
  override name = 'DependencyUnavailable';
}

export function classifyFailure(error: unknown, depth = 0): FailureKind {
  // A cause chain that loops (or nests without end) is the message's: it says nothing transient.
  if (typeof error !== 'object' || error === null || depth > 16) return 'message';
  if (error instanceof DependencyUnavailable) return 'infrastructure';
  const { code, name, status } = error as { code?: unknown; name?: unknown; status?: unknown };
  if (typeof code === 'string') {
    if (transientClientCodes.has(code)) return 'infrastructure';
    if (code.length === 5 && transientSqlStates.some((state) => state.test(code))) return 'infrastructure';
  }
  // The schema registry client reports an unreachable registry as a response error too (with
  // status 400 and the socket error as message); only "no such schema" is the message's fault.
  if (name === 'ResponseError') return status === 404 ? 'message' : 'infrastructure';
  if (typeof name === 'string' && (name.startsWith('KafkaJS') || abandonedCallNames.has(name))) return 'infrastructure';
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined ? 'message' : classifyFailure(cause, depth + 1);
}

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with jitter: between half and all of base·2^(attempt-1), capped, so
 * that many consumers retrying after one outage do not hammer the dependency in step.
 */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
