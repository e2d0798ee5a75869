// make topics: every topic with its partitions and offsets in use (the newest offset minus the
// oldest, summed over partitions: the records the log holds, or more on a compacted topic, whose
// cleaning leaves gaps). Topics starting with `__` are left out: Kafka's own, which no tool
// reads, and Debezium's heartbeats, which make tail reads all the same.
import { partitionOffsets } from '@shop/kit';
import { listTopics, offsetsInUse, runCommand, withAdmin, writeLine } from './inspect.ts';

await runCommand('topics', async () => {
  const rows = await withAdmin(async (admin) => {
    const found = [];
    for (const topic of (await listTopics(admin)).filter((name) => !name.startsWith('__'))) {
      const offsets = await partitionOffsets(admin, topic);
      found.push({ topic, partitions: offsets.length, messages: offsetsInUse(offsets) });
    }
    return found;
  });
  const width = Math.max(...rows.map((r) => r.topic.length), 5);
  await writeLine(`${'topic'.padEnd(width)}  partitions  messages`);
  for (const row of rows)
    await writeLine(`${row.topic.padEnd(width)}  ${String(row.partitions).padStart(10)}  ${String(row.messages).padStart(8)}`);
});
