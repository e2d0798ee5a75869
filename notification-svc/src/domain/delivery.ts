// How the sender treats an SMTP failure. Pure, so it is unit-tested.

/**
 * What an SMTP failure means for the mail:
 * - `permanent`: the server refused it with a 5xx answer (bad recipient, rejected content);
 *   sending it again would be refused again, so it is given up (FAILED).
 * - `temporary`: a 4xx answer (greylisting, a full queue) or any other error of this mail; it
 *   is tried again later with backoff.
 * - `unreachable`: no SMTP answer at all (refused, reset or timed-out connection, DNS); also
 *   tried again later, and the run stops, since every other mail would fail the same way.
 */
export type SmtpFailure = 'permanent' | 'temporary' | 'unreachable';

/** Nodemailer's error codes for a connection that never carried an SMTP answer. */
const CONNECTION_ERRORS = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

export function classifySmtpFailure(error: unknown): SmtpFailure {
  const { responseCode, code } = (error ?? {}) as { responseCode?: unknown; code?: unknown };
  if (typeof responseCode === 'number') return responseCode >= 500 ? 'permanent' : 'temporary';
  if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) return 'unreachable';
  return 'temporary';
}

/** An error as stored in the sent log: its message, at most 500 characters. */
export function describeSmtpError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}
