// patches/kafkajs+2.2.4.patch: kafkajs answers every fetch as soon as the broker holds
// `minBytes` (1 by default), so at the rates this stack runs a consumer's fetch, transaction
// and offset commit carry one or two events each. With `fillWaitInMs`, a fetch that follows
// one that brought records waits up to that long for a full fetch; one that follows an empty
// fetch is answered at `minBytes` as before, so an idle consumer is not woken more often and
// its first record is not held.
import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';

interface FetchWait {
  maxWaitTime: number;
  minBytes: number;
}
interface PartitionResponse {
  partition: number;
  messages: unknown[];
}
interface ConsumerGroup {
  fillWaitInMs: number;
  connect(): Promise<void>;
  fetchWait(nodeId: number): FetchWait;
  noteFetched(nodeId: number, responses: { topicName: string; partitions: PartitionResponse[] }[]): void;
}
type ConsumerGroupClass = (new (options: Record<string, unknown>) => ConsumerGroup) & { prototype: ConsumerGroup };

const require = createRequire(import.meta.url);
const ConsumerGroupOf = require('kafkajs/src/consumer/consumerGroup') as ConsumerGroupClass;

const logger = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };
const group = (fillWaitInMs: number) =>
  new ConsumerGroupOf({ logger, retry: {}, minBytes: 1, maxBytes: 10_485_760, maxWaitTimeInMs: 5_000, fillWaitInMs });
const fetched = (messages: number) => [
  { topicName: 'order-placed', partitions: [{ partition: 0, messages: Array.from({ length: messages }) }] },
];

describe('kafkajs fetch fill (patched)', () => {
  it('answers a fetch at the first record until one brings records, then waits to fill', () => {
    const consumer = group(40);
    expect(consumer.fetchWait(1)).toEqual({ maxWaitTime: 5_000, minBytes: 1 });
    consumer.noteFetched(1, fetched(2));
    expect(consumer.fetchWait(1)).toEqual({ maxWaitTime: 40, minBytes: 10_485_760 });
  });

  it('goes back to the first record after a fetch that brought nothing', () => {
    const consumer = group(40);
    consumer.noteFetched(1, fetched(3));
    consumer.noteFetched(1, fetched(0));
    expect(consumer.fetchWait(1)).toEqual({ maxWaitTime: 5_000, minBytes: 1 });
  });

  it('keeps each broker to its own last fetch', () => {
    const consumer = group(40);
    consumer.noteFetched(1, fetched(1));
    expect(consumer.fetchWait(2)).toEqual({ maxWaitTime: 5_000, minBytes: 1 });
  });

  it('gets the setting from Kafka#consumer, where the kit gives it', async () => {
    // Kafka#consumer names each option it passes on: without the patch's line there, the
    // setting was dropped and every consumer fetched as unpatched, whatever it was told.
    const { Kafka, logLevel } = require('kafkajs') as typeof KafkaJs;
    const seen: number[] = [];
    const connect = vi.spyOn(ConsumerGroupOf.prototype, 'connect').mockImplementation(function (this: ConsumerGroup) {
      seen.push(this.fillWaitInMs);
      return Promise.reject(new Error('no broker in a unit test'));
    });
    try {
      const kafka = new Kafka({ brokers: ['127.0.0.1:9'], logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: 'fill', fillWaitInMs: 40, retry: { retries: 0 } });
      await consumer.run({ eachBatch: async () => undefined });
      await consumer.disconnect();
    } finally {
      connect.mockRestore();
    }
    expect(seen[0]).toBe(40);
  });

  it('never waits with the setting at 0, as kafkajs does unpatched', () => {
    const consumer = group(0);
    consumer.noteFetched(1, fetched(5));
    expect(consumer.fetchWait(1)).toEqual({ maxWaitTime: 5_000, minBytes: 1 });
  });
});
