// make dlq: every dead letter, oldest first, with why it was given up on (reason, error,
// attempts), where it came from (topic, partition, offset, consumer group) and its event
// decoded where that is possible. Reads up to the current end of `dlq`, then exits.
import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_TOPIC, deadLetterHeaderNames as h } from '../consumer/dead-letter.ts';
import { describeRecord, kafka, print } from './inspect.ts';

const admin = kafka.admin();
await admin.connect();
const ends = new Map((await admin.fetchTopicOffsets(DEAD_LETTER_TOPIC)).map((p) => [p.partition, { low: BigInt(p.low), high: BigInt(p.high) }]));
const pending = new Set([...ends].filter(([, o]) => o.high > o.low).map(([partition]) => partition));
if (pending.size === 0) {
  console.error('dlq is empty');
  await admin.disconnect();
  process.exit(0);
}

const groupId = `shop-dlq-${randomUUID()}`;
const consumer = kafka.consumer({ groupId });
await consumer.connect();
await consumer.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: true });
let count = 0;
await new Promise<void>((resolve) => {
  void consumer.run({
    eachMessage: async ({ partition, message }) => {
      const record = await describeRecord(DEAD_LETTER_TOPIC, partition, message);
      const headers = record.headers;
      print({
        dlqPartition: partition,
        dlqOffset: message.offset,
        reason: headers[h.reason],
        error: headers[h.error],
        attempts: Number(headers[h.attempts]),
        group: headers[h.group],
        source: { topic: headers[h.topic], partition: Number(headers[h.partition]), offset: headers[h.offset] },
        failedAt: headers[h.failedAt],
        eventId: headers['id'] ?? null,
        key: record.key,
        value: record.value,
      });
      count += 1;
      if (BigInt(message.offset) + 1n >= ends.get(partition)!.high) pending.delete(partition);
      if (pending.size === 0) resolve();
    },
  });
});
await consumer.disconnect();
await admin.deleteGroups([groupId]).catch(() => undefined);
await admin.disconnect();
console.error(`${count} dead letter(s); replay one with: make replay-dlq PARTITION=<dlqPartition> OFFSET=<dlqOffset>`);
