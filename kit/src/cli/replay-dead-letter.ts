// make replay-dlq PARTITION=p OFFSET=o: sends one dead letter back to the topic it came from,
// with its original key, value and headers (the dlq.* headers removed), once the cause is
// fixed. Safe to repeat: the event keeps its id, so every consumer that already applied it
// skips it, and only the one that gave up applies it now.
import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_TOPIC, deadLetterHeaderNames as h } from '../consumer/dead-letter.ts';
import { headersAsText } from '../kafka/client.ts';
import { kafka } from './inspect.ts';

const partition = Number(process.env['PARTITION'] ?? 0);
const offset = process.env['OFFSET'];
if (offset === undefined || !/^\d+$/.test(offset)) {
  console.error('usage: make replay-dlq PARTITION=<dlq partition> OFFSET=<dlq offset>   (make dlq lists them)');
  process.exit(2);
}

const groupId = `shop-replay-${randomUUID()}`;
const consumer = kafka.consumer({ groupId });
await consumer.connect();
await consumer.subscribe({ topic: DEAD_LETTER_TOPIC });
const letter = await new Promise<{ key: Buffer | null; value: Buffer | null; headers: Record<string, string> }>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no dead letter at partition ${partition}, offset ${offset}`)), 30_000);
  void consumer.run({
    eachMessage: async ({ partition: p, message }) => {
      if (p !== partition || message.offset !== offset) return;
      clearTimeout(timer);
      resolve({ key: message.key, value: message.value, headers: headersAsText(message.headers) });
    },
  });
  consumer.seek({ topic: DEAD_LETTER_TOPIC, partition, offset });
});
await consumer.disconnect();

const source = letter.headers[h.topic];
if (!source) throw new Error('the record has no dlq.source.topic header: not a dead letter');
const original = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !name.startsWith('dlq.')));
const producer = kafka.producer();
await producer.connect();
const [sent] = await producer.send({ topic: source, messages: [{ key: letter.key, value: letter.value, headers: original }] });
await producer.disconnect();
const admin = kafka.admin();
await admin.connect();
await admin.deleteGroups([groupId]).catch(() => undefined);
await admin.disconnect();
console.log(`replayed dlq ${partition}/${offset} (event ${original['id'] ?? '?'}, failed in ${letter.headers[h.group]}: ${letter.headers[h.error]}) to ${source} partition ${sent?.partition} offset ${sent?.baseOffset}`);
