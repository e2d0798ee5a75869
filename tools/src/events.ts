// make events KEY=<id> [FORMAT=json]: every record with that key in every event topic and in
// dlq, decoded, in the order things happened (record timestamp, then topic, partition,
// offset), then exits. Order events are keyed by the order id, product-update by the product
// id, user-registration by the user id, dead letters by the key of the record they hold. One
// line per record for people: time, topic, type header, what it says, [partition/offset and
// event id]; FORMAT=json prints the records as make tail does (every header, the whole value).
// Exits 1 when no record has the key.
import { DEAD_LETTER_TOPIC, eventTopics } from '@shop/kit';
import { byTime, eventLine, type RecordView } from './format.ts';
import { parseFormat, UsageError } from './options.ts';
import {
  describeRecord,
  isEventTopic,
  listTopics,
  print,
  readRanges,
  runCommand,
  stopSignal,
  wholeTopics,
  withAdmin,
  writeLine,
} from './inspect.ts';

await runCommand('events', async () => {
  const key = process.env['KEY'];
  if (!key) throw new UsageError('usage: make events KEY=<order, product or user id> [FORMAT=json]');
  const format = parseFormat(process.env['FORMAT']);
  const wanted = Buffer.from(key);

  const ranges = await withAdmin(async (admin) => {
    const existing = new Set(await listTopics(admin));
    return wholeTopics(
      admin,
      [...eventTopics, DEAD_LETTER_TOPIC].filter((topic) => existing.has(topic)),
    );
  });
  const found: RecordView[] = [];
  await readRanges(ranges, async (topic, partition, message) => {
    if (message.key && wanted.equals(message.key)) found.push(await describeRecord(topic, partition, message));
  });
  // Interrupted: what was read is not the whole history of the key.
  if (stopSignal.aborted) return 130;
  found.sort(byTime);
  for (const record of found) {
    if (format === 'json') await print(record);
    else await writeLine(eventLine(record, isEventTopic));
  }
  if (found.length === 0) {
    process.stderr.write(`events: no record in ${[...new Set(ranges.map((r) => r.topic))].length} topics has the key ${key}\n`);
    return 1;
  }
  return 0;
});
