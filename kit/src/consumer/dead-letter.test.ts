import { describe, expect, it } from 'vitest';
import { KafkaJSNonRetriableError, KafkaJSConnectionError, KafkaJSProtocolError, type IHeaders } from 'kafkajs';
import { headersAsText } from '../kafka/client.ts';
import {
  deadLetterHeaderNames as h,
  deadLetterOf,
  onlyItsOrigin,
  recordRefusal,
  withoutValue,
  type DeadLetterSource,
} from './dead-letter.ts';

describe('deadLetterOf', () => {
  const source = {
    topic: 'order-placed',
    partition: 2,
    message: {
      key: Buffer.from('order-1'),
      value: Buffer.from([0, 1, 2]),
      headers: { id: Buffer.from('e-1'), type: Buffer.from('order-placed') },
      offset: '41',
    },
  };

  it('keeps the original key, value and headers and adds where it came from and why it failed', () => {
    const letter = deadLetterOf(source, {
      group: 'payment-svc',
      attempts: 5,
      reason: 'HANDLER_FAILED',
      error: new RangeError('amount out of range'),
      at: new Date('2026-01-02T03:04:05Z'),
    });
    expect(letter.key).toEqual(Buffer.from('order-1'));
    expect(letter.value).toEqual(Buffer.from([0, 1, 2]));
    expect(letter.headers).toEqual({
      id: Buffer.from('e-1'),
      type: Buffer.from('order-placed'),
      [h.topic]: 'order-placed',
      [h.partition]: '2',
      [h.offset]: '41',
      [h.group]: 'payment-svc',
      [h.attempts]: '5',
      [h.reason]: 'HANDLER_FAILED',
      [h.error]: 'RangeError: amount out of range',
      [h.failedAt]: '2026-01-02T03:04:05.000Z',
    });
  });

  it('bounds the error text', () => {
    const letter = deadLetterOf(source, {
      group: 'g',
      attempts: 1,
      reason: 'UNDECODABLE',
      error: new Error('x'.repeat(10_000)),
      at: new Date(),
    });
    const error = letter.headers[h.error];
    expect(error).toMatch(/^Error: x{100,}/);
    expect(String(error).length).toBeLessThanOrEqual(2_000);
  });
});

describe('headers without a value', () => {
  // Debezium writes the header of a NULL outbox column (an untraced transaction's traceparent) with no value.
  const message = { key: Buffer.from('k'), value: Buffer.from('v'), offset: '7', headers: { id: Buffer.from('e'), traceparent: null } };

  it('are left out of the text headers', () => {
    expect(headersAsText(message.headers as unknown as IHeaders)).toEqual({ id: 'e' });
  });

  it('are left out of the dead letter', () => {
    const letter = deadLetterOf(
      { topic: 't', partition: 0, message: message as unknown as DeadLetterSource['message'] },
      { group: 'g', attempts: 1, reason: 'UNDECODABLE', error: new Error('x'), at: new Date(0) },
    );
    expect(Object.keys(letter.headers)).not.toContain('traceparent');
    expect(letter.headers['id']).toEqual(Buffer.from('e'));
  });
});

describe('a letter Kafka refuses with its value', () => {
  // What kafkajs's producer throws for a record over the broker's limit: its retrier's
  // non-retriable error, caused by the protocol error with Kafka's error type.
  const refusal = new KafkaJSProtocolError({
    type: 'MESSAGE_TOO_LARGE',
    code: 10,
    retriable: false,
    message: 'too large',
  } as unknown as Error);
  const tooLarge = Object.assign(new KafkaJSNonRetriableError(refusal), { cause: refusal });

  it("finds Kafka's refusal of the record among the error's causes, and nothing in an outage", () => {
    expect(recordRefusal(tooLarge)).toBe('MESSAGE_TOO_LARGE');
    expect(recordRefusal(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBeUndefined();
    expect(recordRefusal('MESSAGE_TOO_LARGE')).toBeUndefined();
  });

  it('is written without its value, saying how large it was and why, with its origin kept', () => {
    const letter = deadLetterOf(
      { topic: 'order-placed', partition: 1, message: { key: Buffer.from('k'), value: Buffer.alloc(1_048_400), headers: {}, offset: '7' } },
      { group: 'payment-svc', attempts: 1, reason: 'UNDECODABLE', error: new Error('not Avro'), at: new Date() },
    );
    const stripped = withoutValue(letter, 'MESSAGE_TOO_LARGE');
    expect(stripped.value).toBeNull();
    expect(stripped.key).toEqual(Buffer.from('k'));
    expect(stripped.headers).toMatchObject({
      [h.topic]: 'order-placed',
      [h.offset]: '7',
      [h.valueDropped]: '1048400 bytes, refused by Kafka: MESSAGE_TOO_LARGE',
    });
  });

  it('is written with nothing but its origin when Kafka refuses it even without its value, and no smaller after that', () => {
    const letter = withoutValue(
      deadLetterOf(
        {
          topic: 'order-placed',
          partition: 1,
          message: { key: Buffer.alloc(2_000_000), value: null, headers: { type: Buffer.from('x') }, offset: '7' },
        },
        { group: 'payment-svc', attempts: 1, reason: 'UNDECODABLE', error: new Error('not Avro'), at: new Date() },
      ),
      'MESSAGE_TOO_LARGE',
    );
    const origin = onlyItsOrigin(letter);
    expect(origin?.key).toBeNull();
    expect(origin?.headers).not.toHaveProperty('type');
    expect(origin?.headers).toMatchObject({ [h.topic]: 'order-placed', [h.offset]: '7', [h.valueDropped]: expect.any(String) });
    expect(onlyItsOrigin(origin!)).toBeUndefined();
  });
});
