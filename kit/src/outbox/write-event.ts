import { randomUUID } from 'node:crypto';
import type { Transaction } from '../db/connect.ts';
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

/**
 * Writes an event to the outbox inside the caller's transaction, so the event exists if and
 * only if the domain change it describes commits. Debezium publishes it from the WAL.
 * Returns the event id (the record's `id` header).
 */
export function writeOutboxEvent<T extends EventTopic>(tx: Transaction, codec: EventCodec, event: OutboxEvent<T>): Promise<string> {
  const aggregate = eventCatalogue[event.topic].aggregate;
  const attributes = {
    'messaging.system': 'kafka',
    'messaging.destination.name': event.topic,
    'messaging.kafka.message.key': event.aggregateId,
    ...(aggregate === 'order' ? { [ORDER_ID_ATTRIBUTE]: event.aggregateId } : {}),
  };
  // The producer span of the event: its consumers' spans are its children.
  return inSpan(`${event.topic} publish`, { kind: SpanKind.PRODUCER, attributes }, () => insertOutboxRow(tx, codec, event));
}

async function insertOutboxRow<T extends EventTopic>(tx: Transaction, codec: EventCodec, event: OutboxEvent<T>): Promise<string> {
  const id = randomUUID();
  const payload = await codec.encode(event.topic, event.value);
  // Debezium's outbox columns are single words (aggregatetype, not aggregate_type).
  const row = {
    id,
    aggregatetype: eventCatalogue[event.topic].aggregate,
    aggregateid: event.aggregateId,
    type: event.topic,
    payload,
    // The trace this change belongs to (the request's, or the consumed event's), for the consumers to continue.
    traceparent: currentTraceparent(),
  };
  await tx`insert into outbox ${tx(row, 'id', 'aggregatetype', 'aggregateid', 'type', 'payload', 'traceparent')}`;
  return id;
}
