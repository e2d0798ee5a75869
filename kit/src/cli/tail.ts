// make tail TOPIC=name [FROM=end] [COUNT=n]: the topic's records as JSON lines (key, headers,
// value decoded through the registry), from the beginning (or only new ones with FROM=end),
// following until Ctrl-C or until COUNT records were printed.
import { randomUUID } from 'node:crypto';
import { describeRecord, kafka, print } from './inspect.ts';

const topic = process.env['TOPIC'];
if (!topic) {
  console.error('usage: make tail TOPIC=<topic> [FROM=end] [COUNT=<n>]');
  process.exit(2);
}
const limit = process.env['COUNT'] ? Number(process.env['COUNT']) : Infinity;
const groupId = `shop-tail-${randomUUID()}`;
const consumer = kafka.consumer({ groupId });
let printed = 0;

// The group exists only for this command: it is removed again on the way out.
async function finish(code: number): Promise<never> {
  await consumer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
  process.exit(code);
}
process.once('SIGINT', () => void finish(0));
process.once('SIGTERM', () => void finish(0));

await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: process.env['FROM'] !== 'end' });
await consumer.run({
  eachMessage: async ({ topic: from, partition, message }) => {
    if (printed >= limit) return;
    print(await describeRecord(from, partition, message));
    printed += 1;
    if (printed >= limit) setImmediate(() => void finish(0));
  },
});
