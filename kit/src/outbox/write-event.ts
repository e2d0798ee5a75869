import { randomUUID } from 'node:crypto';
import type { Sql, Transaction } from '../db/connect.ts';
import type { EventCodec } from '../events/codec.ts';
import { eventCatalogue, type EventsByTopic, type EventTopic } from '../../../schemas/catalogue.ts';
import { currentTraceparent, inSpan, ORDER_ID_ATTRIBUTE, SpanKind } from '../tracing/tracing.ts';

export interface OutboxEvent<T extends EventTopic> {
  /** The event type, which is also its Kafka topic. */
  topic: T;
  /** The record key: the id of the user, product or order the event is about. */
  aggregateId: string;
  value: EventsByTopic[T];
}

/** An event for the outbox; the domains' typed constructors (`orderPlaced(order)`) are made with it. */
export const outboxEvent = <T extends EventTopic>(topic: T, aggregateId: string, value: EventsByTopic[T]): OutboxEvent<T> => ({
  topic,
  aggregateId,
  value,
});

/** An outbox row as the table stores it; Debezium's outbox columns are single words (aggregatetype, not aggregate_type). */
export interface OutboxRow {
  id: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: Buffer;
  traceparent: string | null;
}

export const outboxColumns = ['id', 'aggregatetype', 'aggregateid', 'type', 'payload', 'traceparent'] as const;

/**
 * The insert of outbox rows, as a fragment: a statement of its own, or a data-modifying WITH
 * clause of the statement that makes the change they announce (`event as (${outboxInsert(tx, row)})`).
 * Several rows are written in their order, so Debezium publishes them in that order.
 */
export const outboxInsert = (sql: Sql | Transaction, rows: OutboxRow | OutboxRow[]) =>
  sql`insert into outbox ${sql(rows, ...outboxColumns)}`;

/**
 * outboxInsert as a WITH clause to follow a statement's others (`with changed as (…)
 * ${outboxClause(tx, rows)} select 1`), or nothing when there are no rows to announce.
 */
export const outboxClause = (tx: Transaction, rows: OutboxRow[]) =>
  rows.length > 0 ? tx`, announced as (${outboxInsert(tx, rows)})` : tx``;

/**
 * Writes an event to the outbox inside the caller's transaction, so the event exists if and
 * only if the domain change it describes commits. Debezium publishes it from the WAL.
 * Returns the event id (the record's `id` header).
 */
export async function writeOutboxEvent<T extends EventTopic>(tx: Transaction, codec: EventCodec, event: OutboxEvent<T>): Promise<string> {
  return publishWith(codec, event, async (row) => {
    await outboxInsert(tx, row);
    return row.id;
  });
}

/**
 * Publishes an event through `write`, which inserts the outbox row it is given together with
 * the change the event describes: in the caller's transaction, or in one statement with the
 * domain rows (data-modifying WITH clauses), which is atomic without a transaction and saves
 * its round trips. The write runs in the event's producer span, whose children its
 * consumers' spans are.
 */
export function publishWith<T extends EventTopic, R>(
  codec: EventCodec,
  event: OutboxEvent<T>,
  write: (row: OutboxRow) => Promise<R>,
): Promise<R> {
  const aggregate = eventCatalogue[event.topic].aggregate;
  const attributes = {
    'messaging.system': 'kafka',
    'messaging.destination.name': event.topic,
    'messaging.kafka.message.key': event.aggregateId,
    ...(aggregate === 'order' ? { [ORDER_ID_ATTRIBUTE]: event.aggregateId } : {}),
  };
  return inSpan(`${event.topic} publish`, { kind: SpanKind.PRODUCER, attributes }, async () => {
    const row: OutboxRow = {
      id: randomUUID(),
      aggregatetype: aggregate,
      aggregateid: event.aggregateId,
      type: event.topic,
      payload: await codec.encode(event.topic, event.value),
      // The trace this change belongs to (the request's, or the consumed event's), for the consumers to continue.
      traceparent: currentTraceparent(),
    };
    return write(row);
  });
}

/**
 * publishWith for several events written by one statement: `write` gets their rows in the
 * events' order. Each event's producer span encloses the write, so the spans nest, the first
 * event's outermost.
 */
export function publishAllWith<R>(
  codec: EventCodec,
  events: OutboxEvent<EventTopic>[],
  write: (rows: OutboxRow[]) => Promise<R>,
): Promise<R> {
  const publishFrom = (index: number, rows: OutboxRow[]): Promise<R> => {
    const event = events[index];
    return event ? publishWith(codec, event, (row) => publishFrom(index + 1, [...rows, row])) : write(rows);
  };
  return publishFrom(0, []);
}
