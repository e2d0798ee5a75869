import { randomUUID } from 'node:crypto';
import type { Transaction } from '../db/connect.ts';
import type { EventCodec } from '../events/codec.ts';
import type { EventsByTopic, EventTopic } from '../events/types.generated.ts';

export interface OutboxEvent<T extends EventTopic> {
  /** The event type, which is also its Kafka topic. */
  topic: T;
  /** What the key identifies: 'user', 'product', 'order'. */
  aggregateType: string;
  /** The record key: the id of the user, product or order the event is about. */
  aggregateId: string;
  value: EventsByTopic[T];
}

/**
 * Writes an event to the outbox inside the caller's transaction, so the event exists if and
 * only if the domain change it describes commits. Debezium publishes it from the WAL.
 * Returns the event id (the record's `id` header).
 */
export async function writeOutboxEvent<T extends EventTopic>(
  tx: Transaction,
  codec: EventCodec,
  event: OutboxEvent<T>,
): Promise<string> {
  const id = randomUUID();
  const payload = await codec.encode(event.topic, event.value);
  await tx`
    insert into outbox (id, aggregatetype, aggregateid, type, payload)
    values (${id}, ${event.aggregateType}, ${event.aggregateId}, ${event.topic}, ${payload})`;
  return id;
}
