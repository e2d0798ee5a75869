// make topics: every topic with its partitions and message count (what the log holds now:
// the newest offset minus the oldest, summed over partitions). Topics starting with `__`
// (Kafka's own, Debezium's heartbeats) are left out; make tail reads them all the same.
import { listTopics, partitionOffsets, runCommand, withAdmin, writeLine } from './inspect.ts';

await runCommand('topics', async () => {
  const rows = await withAdmin(async (admin) => {
    const found = [];
    for (const topic of (await listTopics(admin)).filter((name) => !name.startsWith('__'))) {
      const offsets = await partitionOffsets(admin, topic);
      found.push({ topic, partitions: offsets.length, messages: offsets.reduce((sum, p) => sum + (p.high - p.low), 0n) });
    }
    return found;
  });
  const width = Math.max(...rows.map((r) => r.topic.length), 5);
  await writeLine(`${'topic'.padEnd(width)}  partitions  messages`);
  for (const row of rows)
    await writeLine(`${row.topic.padEnd(width)}  ${String(row.partitions).padStart(10)}  ${String(row.messages).padStart(8)}`);
});
