// A test-side Kafka reader: consumes topics from the beginning under a fresh group and keeps
// every record, so a test can wait for the records it caused and count them.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { headersAsText } from '@shop/kit';

export interface ReceivedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer | null;
}

/** Each partition's first and next offset, keyed "topic/partition". */
export async function topicEnds(brokers: string[], topics: string[]): Promise<Map<string, { low: bigint; high: bigint }>> {
  const admin = new Kafka({ clientId: 'integration-tests', brokers, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const ends = new Map<string, { low: bigint; high: bigint }>();
    for (const topic of topics) {
      for (const { partition, low, high } of await admin.fetchTopicOffsets(topic))
        ends.set(`${topic}/${partition}`, { low: BigInt(low), high: BigInt(high) });
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Commits the topic's end offsets for a group that has not run yet, so that its consumer sees
 * only what is sent from now on. (KafkaJS's `resetOffsets({ earliest: false })` commits -1,
 * "no offset", which a consumer subscribed `fromBeginning`, as the kit's is, reads as the start.)
 */
export async function startGroupAtEnd(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId, topic, partitions: ends.map(({ partition, high }) => ({ partition, offset: high })) });
  } finally {
    await admin.disconnect();
  }
}

export class TopicRecorder {
  readonly records: ReceivedRecord[] = [];
  private readonly consumer: Consumer;
  private readonly topics: string[];

  private constructor(brokers: string[], topics: string[]) {
    const kafka = new Kafka({ clientId: 'integration-tests', brokers, logLevel: logLevel.ERROR });
    this.consumer = kafka.consumer({ groupId: `integration-tests-${randomUUID()}` });
    this.topics = topics;
  }

  static async start(brokers: string[], topics: string[]): Promise<TopicRecorder> {
    const recorder = new TopicRecorder(brokers, topics);
    await recorder.consumer.connect();
    await recorder.consumer.subscribe({ topics: recorder.topics, fromBeginning: true });
    await recorder.consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        recorder.records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          headers: headersAsText(message.headers),
          value: message.value,
        });
        return Promise.resolve();
      },
    });
    return recorder;
  }

  /**
   * Every record of `topics` up to their ends as of the call: reads from the beginning until
   * each partition has reached the high watermark it had when the call began.
   */
  static async readToEnd(brokers: string[], topics: string[], timeoutMs = 120_000): Promise<ReceivedRecord[]> {
    // Partitions with records left (retention may have emptied some), and where they end.
    const ends = new Map(
      [...(await topicEnds(brokers, topics))].filter(([, { low, high }]) => high > low).map(([partition, { high }]) => [partition, high]),
    );
    const recorder = await TopicRecorder.start(brokers, topics);
    try {
      await recorder.waitFor(
        'the topics to be read to their ends',
        (records) => {
          const next = new Map<string, bigint>();
          for (const r of records) next.set(`${r.topic}/${r.partition}`, BigInt(r.offset) + 1n);
          return [...ends].every(([partition, end]) => (next.get(partition) ?? 0n) >= end);
        },
        timeoutMs,
      );
      return [...recorder.records];
    } finally {
      await recorder.stop();
    }
  }

  /** Polls until `done` holds for the records received so far; fails after `timeoutMs`. */
  async waitFor(description: string, done: (records: ReceivedRecord[]) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.records)) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  withEventIds(ids: ReadonlySet<string>): ReceivedRecord[] {
    return this.records.filter((r) => r.headers['id'] !== undefined && ids.has(r.headers['id']));
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
