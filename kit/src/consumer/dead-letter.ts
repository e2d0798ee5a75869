import type { IHeaders, KafkaMessage } from 'kafkajs';
import { describeThrown } from '../errors.ts';

/** The topic of messages a consumer gave up on (the contract's `dlq`). */
export const DEAD_LETTER_TOPIC = 'dlq';

/** Header names a dead letter carries besides the original headers. */
export const deadLetterHeaderNames = {
  topic: 'dlq.source.topic',
  partition: 'dlq.source.partition',
  offset: 'dlq.source.offset',
  group: 'dlq.consumer.group',
  attempts: 'dlq.attempts',
  error: 'dlq.error',
  reason: 'dlq.reason',
  failedAt: 'dlq.failed.at',
  /** Only on a letter Kafka refused with its value (too large for `dlq`): the value's size and why. */
  valueDropped: 'dlq.value.dropped',
} as const;

/** Why a message was given up on: it could not be read at all, or applying it kept failing. */
export type DeadLetterReason = 'UNDECODABLE' | 'HANDLER_FAILED';

export interface DeadLetterSource {
  topic: string;
  partition: number;
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>;
}

export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

const MAX_ERROR_LENGTH = 2_000;

/**
 * The dead letter of a message: its original key, value and headers, untouched, so it can be
 * replayed as it was, plus headers saying where it came from, who gave up, after how many
 * attempts and why.
 */
export function deadLetterOf(
  source: DeadLetterSource,
  failure: { group: string; attempts: number; reason: DeadLetterReason; error: unknown; at: Date },
): DeadLetter {
  const error = describeThrown(failure.error);
  return {
    key: source.message.key ?? null,
    value: source.message.value ?? null,
    headers: {
      // A header without a value (a NULL outbox column Debezium placed in one) stays out.
      ...Object.fromEntries(Object.entries(source.message.headers ?? {}).filter(([, value]) => value !== null && value !== undefined)),
      [deadLetterHeaderNames.topic]: source.topic,
      [deadLetterHeaderNames.partition]: String(source.partition),
      [deadLetterHeaderNames.offset]: source.message.offset,
      [deadLetterHeaderNames.group]: failure.group,
      [deadLetterHeaderNames.attempts]: String(failure.attempts),
      [deadLetterHeaderNames.reason]: failure.reason,
      [deadLetterHeaderNames.error]: error.slice(0, MAX_ERROR_LENGTH),
      [deadLetterHeaderNames.failedAt]: failure.at.toISOString(),
    },
  };
}

/** Kafka's answers that refuse a record itself, not the moment: sending it again cannot succeed. */
const RECORD_REFUSALS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/**
 * The next smaller form of a letter Kafka refused for what it carries (`sendError`): first
 * without its value, then with nothing but its origin. Undefined when the error is not such a
 * refusal (an outage, to be retried) or the letter is as small as it gets.
 */
export function smallerLetter(letter: DeadLetter, sendError: unknown): DeadLetter | undefined {
  const refusal = recordRefusal(sendError);
  if (refusal === undefined) return undefined;
  return letter.value !== null ? withoutValue(letter, refusal) : onlyItsOrigin(letter);
}

/** Kafka's refusal of the record itself (kafkajs's protocol error type, wherever in the causes), if that is what `error` is. */
export function recordRefusal(error: unknown): string | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const type = (cause as Error & { type?: unknown }).type;
    if (typeof type === 'string' && RECORD_REFUSALS.has(type)) return type;
  }
  return undefined;
}

/**
 * The letter without the value Kafka refused it with (a record just under the broker's limit,
 * which the letter's headers take over it): the source topic, partition and offset still say
 * where the value is, for as long as that topic keeps it. Without this, the letter would be
 * retried forever and its partition would apply nothing more.
 */
export function withoutValue(letter: DeadLetter, refusal: string): DeadLetter {
  return {
    ...letter,
    value: null,
    headers: {
      ...letter.headers,
      [deadLetterHeaderNames.valueDropped]: `${letter.value?.length ?? 0} bytes, refused by Kafka: ${refusal}`,
    },
  };
}

/**
 * The letter with no key and only its `dlq.*` headers, for one Kafka refused even without its
 * value (a huge key or header); undefined when it is that already, and a further refusal is
 * then retried like an outage.
 */
export function onlyItsOrigin(letter: DeadLetter): DeadLetter | undefined {
  const ours = Object.entries(letter.headers).filter(([name]) => name.startsWith('dlq.'));
  if (letter.key === null && ours.length === Object.keys(letter.headers).length) return undefined;
  return { key: null, value: null, headers: Object.fromEntries(ours) };
}
