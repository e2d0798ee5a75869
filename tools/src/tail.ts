// make tail TOPIC=name [KEY=k] [FROM=beginning|end|<offset>|<ISO time>] [COUNT=n]: the topic's
// records as JSON lines (key, headers, value decoded through the registry). Reads from FROM
// (default: the beginning) to the current end and keeps following new records until Ctrl-C,
// or until COUNT records were printed. KEY keeps only the records with that key (COUNT counts
// those). FROM=<offset> starts every partition at that offset; FROM=<time> at each
// partition's first record written at or after it.
import { parseCount, parseStartPosition, UsageError } from './options.ts';
import { describeRecord, print, rangesFrom, readRanges, requireTopic, runCommand, withAdmin } from './inspect.ts';

await runCommand('tail', async () => {
  const topic = process.env['TOPIC'];
  if (!topic)
    throw new UsageError(
      'usage: make tail TOPIC=<topic> [KEY=<key>] [FROM=beginning|end|<offset>|<ISO time>] [COUNT=<n>]   (make topics lists them)',
    );
  const limit = parseCount(process.env['COUNT']) ?? Infinity;
  const from = parseStartPosition(process.env['FROM']);
  const key = process.env['KEY'] || undefined;

  const ranges = await withAdmin(async (admin) => {
    await requireTopic(admin, topic);
    return rangesFrom(admin, topic, from, true);
  });
  let printed = 0;
  const caughtUp = () => {
    if (printed < limit && process.stderr.isTTY)
      process.stderr.write(`tail: at the end of ${topic} (${printed} record(s) so far); following new records, Ctrl-C stops\n`);
  };
  await readRanges(
    ranges,
    async (from, partition, message) => {
      if (key !== undefined && message.key?.toString() !== key) return;
      await print(await describeRecord(from, partition, message));
      printed += 1;
      if (printed >= limit) return 'stop';
    },
    caughtUp,
  );
});
