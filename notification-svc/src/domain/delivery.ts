// How the sender treats an SMTP failure. Pure, so it is unit-tested.

/**
 * What an SMTP failure means for the mail:
 * - `permanent`: the server refused this mail with a 5xx answer to its recipient or its
 *   content; sending it again would be refused again, so it is given up (FAILED).
 * - `temporary`: a 4xx answer to its recipient or content (greylisting, a full mailbox) or
 *   any other error of this mail; it is tried again later with backoff.
 * - `unreachable`: no SMTP answer at all (refused, reset or timed-out connection, DNS), or a
 *   refusal that is not about this mail (at the greeting, EHLO or MAIL FROM, whose sender is
 *   the service's own): tried again later, and the run stops, since every other mail would
 *   fail the same way. A relay that refuses everything must not turn the backlog FAILED.
 */
export type SmtpFailure = 'permanent' | 'temporary' | 'unreachable';

/** Nodemailer's error codes for a connection that never carried an SMTP answer. */
const CONNECTION_ERRORS = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/** The commands whose answer is about the mail itself (nodemailer's `command` of an error): its recipient and its content. */
const MAIL_COMMANDS = new Set(['RCPT TO', 'DATA']);

export function classifySmtpFailure(error: unknown): SmtpFailure {
  const { responseCode, code, command } = (error ?? {}) as { responseCode?: unknown; code?: unknown; command?: unknown };
  if (typeof responseCode === 'number') {
    if (typeof command === 'string' && !MAIL_COMMANDS.has(command)) return 'unreachable';
    return responseCode >= 500 ? 'permanent' : 'temporary';
  }
  if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) return 'unreachable';
  return 'temporary';
}

/** An error as stored in the sent log: its message, at most 500 characters. */
export function describeSmtpError(error: unknown): string {
  // A server's reply can hold a NUL, which PostgreSQL refuses in text.
  const text = (error instanceof Error ? error.message : String(error)).replaceAll('\0', '\uFFFD');
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}
