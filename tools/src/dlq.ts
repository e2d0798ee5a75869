// make dlq [SINCE=<ISO time>|<duration>] [FORMAT=json]: the dead letters, grouped by reason,
// source topic and consumer group, each group with its count and its first and last failure,
// each letter with when it failed, where it is in dlq (for make replay-dlq), its event id,
// key, source record, error, and whether it was replayed. Reads dlq to its current end, then
// exits. SINCE keeps the letters that failed after it (2026-11-22T10:00:00Z, or 30m, 2h, 1d
// back from now). FORMAT=json prints one JSON line per letter instead, oldest first.
//
// Replayed: make replay-dlq sends a letter's record back to its topic with the header
// dlq.replayed.from=<dlq partition>/<dlq offset>. A letter counts as replayed when a record
// with its partition/offset in that header is in its source topic; only the source topics of
// the letters shown are read, from the time of the earliest of them on.
import { DEAD_LETTER_TOPIC, headersAsText } from '@shop/kit';
import { dlqPlace, groupLetters, letterOf, renderLetterGroups, REPLAYED_FROM_HEADER, type Letter } from './format.ts';
import { parseFormat, parseSince } from './options.ts';
import {
  describeRecord,
  listTopics,
  print,
  rangesFrom,
  readRanges,
  recordTime,
  runCommand,
  stopSignal,
  wholeTopics,
  withAdmin,
  writeLine,
  type PartitionRange,
} from './inspect.ts';

await runCommand('dlq', async () => {
  const since = parseSince(process.env['SINCE']);
  const format = parseFormat(process.env['FORMAT']);

  const letters: Letter[] = [];
  await readRanges(await withAdmin((admin) => wholeTopics(admin, [DEAD_LETTER_TOPIC])), async (topic, partition, message) => {
    const letter = letterOf(await describeRecord(topic, partition, message));
    if (!since || new Date(letter.failedAt) > since) letters.push(letter);
  });
  if (stopSignal.aborted) return 130;

  // The replays of these letters: records carrying dlq.replayed.from in their source topics.
  const byPlace = new Map(letters.map((l) => [dlqPlace(l.dlqPartition, l.dlqOffset), l]));
  const earliest = new Map<string, Date>();
  for (const l of letters) {
    const failed = new Date(l.failedAt);
    const known = earliest.get(l.source.topic);
    if (known === undefined || failed < known) earliest.set(l.source.topic, failed);
  }
  const sources: PartitionRange[] = await withAdmin(async (admin) => {
    const existing = new Set(await listTopics(admin));
    const ranges: PartitionRange[] = [];
    for (const [topic, at] of earliest)
      if (existing.has(topic)) ranges.push(...(await rangesFrom(admin, topic, { kind: 'time', at }, false)));
    return ranges;
  });
  await readRanges(sources, async (topic, partition, message) => {
    const from = headersAsText(message.headers)[REPLAYED_FROM_HEADER];
    const letter = from === undefined ? undefined : byPlace.get(from);
    if (!letter || letter.source.topic !== topic) return;
    letter.replays.push({ topic, partition, offset: message.offset, at: recordTime(message) });
    letter.replayed = true;
  });
  if (stopSignal.aborted) return 130;

  const groups = groupLetters(letters);
  const scope = since ? ` that failed after ${since.toISOString()}` : '';
  if (format === 'json') {
    for (const letter of [...letters].sort((a, b) => a.failedAt.localeCompare(b.failedAt))) await print(letter);
    process.stderr.write(
      `${letters.length} dead letter(s)${scope}; replay one with: make replay-dlq PARTITION=<dlqPartition> OFFSET=<dlqOffset>\n`,
    );
    return 0;
  }
  if (letters.length === 0) {
    await writeLine(`no dead letters${scope}`);
    return 0;
  }
  const replayed = letters.filter((l) => l.replayed).length;
  await writeLine(
    `${letters.length} dead letter(s)${scope} in ${groups.length} group(s) by reason, source topic → consumer group; ${replayed} replayed`,
  );
  await writeLine('');
  for (const line of renderLetterGroups(groups)) await writeLine(line);
  await writeLine('replay one with: make replay-dlq PARTITION=p OFFSET=o   (the "dlq p/o" of its line)');
  return 0;
});
