// The operator commands' arguments (make variables, passed as environment variables), read
// and checked before anything talks to Kafka. A bad value is a UsageError: the command prints
// its one-line message and exits 2.

/** A value the user typed that the command cannot use; the message says what it accepts. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Where `make tail` starts reading each partition. */
export type StartPosition =
  | { kind: 'beginning' }
  | { kind: 'end' }
  /** The same offset in every partition (clamped to what each partition holds). */
  | { kind: 'offset'; offset: bigint }
  /** The first record of each partition written at or after this time. */
  | { kind: 'time'; at: Date };

// 2026-11-22, 2026-11-22T10:00, 2026-11-22T10:00:00.123Z, 2026-11-22 10:00:00+01:00 ...
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;
const DURATION = /^(\d+)(ms|s|m|h|d|w)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * An ISO 8601 date or date-time, or undefined when the text is none (or names a day the
 * calendar has not: JavaScript would move 2026-02-30 to March). Without a zone, a date-time is
 * local time and a date alone is UTC midnight, as JavaScript reads them.
 */
export function parseIsoTime(text: string): Date | undefined {
  if (!ISO_TIME.test(text)) return undefined;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) return undefined;
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= lastDay ? at : undefined;
}

/** COUNT: a whole number of records, at least 1; undefined when not given. */
export function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`COUNT must be a whole number of records, 1 or more, not '${text}'`);
  }
  return Number(text);
}

/** FROM: beginning (the default), end, an offset or an ISO time. */
export function parseStartPosition(text: string | undefined): StartPosition {
  if (text === undefined || text === '' || text === 'beginning') return { kind: 'beginning' };
  if (text === 'end') return { kind: 'end' };
  if (/^\d+$/.test(text)) return { kind: 'offset', offset: BigInt(text) };
  const at = parseIsoTime(text);
  if (at) return { kind: 'time', at };
  throw new UsageError(`FROM must be beginning, end, an offset (e.g. 42) or an ISO time (e.g. 2026-11-22T10:00:00Z), not '${text}'`);
}

/** SINCE: an ISO time, or a duration back from `now` (30s, 15m, 2h, 1d, 1w); undefined when not given. */
export function parseSince(text: string | undefined, now: Date = new Date()): Date | undefined {
  if (text === undefined || text === '') return undefined;
  const duration = DURATION.exec(text);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * DURATION_MS[duration[2]!]!);
  const at = parseIsoTime(text);
  if (at) return at;
  throw new UsageError(
    `SINCE must be an ISO time (e.g. 2026-11-22T10:00:00Z) or a duration back from now (e.g. 30m, 2h, 1d), not '${text}'`,
  );
}

/** FORMAT: text for people (the default) or json for JSON lines. */
export function parseFormat(text: string | undefined): 'text' | 'json' {
  if (text === undefined || text === '' || text === 'text') return 'text';
  if (text === 'json') return 'json';
  throw new UsageError(`FORMAT must be text or json, not '${text}'`);
}

/** A partition or offset number (PARTITION, OFFSET). */
export function parseWholeNumber(name: string, text: string | undefined, fallback?: string): bigint {
  const value = text === undefined || text === '' ? fallback : text;
  if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number (0 or more), not '${text ?? ''}'`);
  return BigInt(value);
}
