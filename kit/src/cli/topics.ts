// make topics: every topic with its partitions and message count (what the log holds now:
// the newest offset minus the oldest, summed over partitions).
import { kafka } from './inspect.ts';

const admin = kafka.admin();
await admin.connect();
const topics = (await admin.listTopics()).filter((topic) => !topic.startsWith('__')).sort();
const rows = [];
for (const topic of topics) {
  const offsets = await admin.fetchTopicOffsets(topic);
  const messages = offsets.reduce((sum, p) => sum + (Number(p.high) - Number(p.low)), 0);
  rows.push({ topic, partitions: offsets.length, messages });
}
await admin.disconnect();
const width = Math.max(...rows.map((r) => r.topic.length), 5);
console.log(`${'topic'.padEnd(width)}  partitions  messages`);
for (const row of rows) console.log(`${row.topic.padEnd(width)}  ${String(row.partitions).padStart(10)}  ${String(row.messages).padStart(8)}`);
