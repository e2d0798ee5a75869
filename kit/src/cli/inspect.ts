// What the operator commands (make topics / tail / dlq / replay-dlq) share: a Kafka client,
// and a record turned into one line of JSON with its value decoded through the registry.
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { requireEnv } from '../config.ts';
import { deadLetterHeaderNames } from '../consumer/dead-letter.ts';
import { EventCodec } from '../events/codec.ts';
import { eventTopics, type EventTopic } from '../events/types.generated.ts';
import { headersAsText } from '../kafka/client.ts';

export const kafka = new Kafka({ clientId: 'shop-inspect', brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
const codec = new EventCodec(requireEnv('REGISTRY_URL'));

const isEventTopic = (topic: string | undefined): topic is EventTopic => (eventTopics as readonly string[]).includes(topic ?? '');

/** A dead letter's value is decoded as an event of the topic it came from. */
async function decodeValue(topic: string, headers: Record<string, string>, value: Buffer | null): Promise<unknown> {
  if (!value) return null;
  const schemaTopic = topic === 'dlq' ? headers[deadLetterHeaderNames.topic] : topic;
  if (!isEventTopic(schemaTopic)) return { undecoded: value.toString('base64') };
  try {
    return await codec.decode(schemaTopic, value);
  } catch (error) {
    return { undecodable: (error as Error).message, base64: value.toString('base64') };
  }
}

export async function describeRecord(topic: string, partition: number, message: KafkaMessage) {
  const headers = headersAsText(message.headers);
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: new Date(Number(message.timestamp)).toISOString(),
    key: message.key?.toString() ?? null,
    headers,
    value: await decodeValue(topic, headers, message.value),
  };
}

export const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
