// make replay-dlq PARTITION=p OFFSET=o: sends one dead letter back to the topic it came from,
// with its original key, value and headers, once the cause is fixed. The dlq.* headers are
// removed and one is added: dlq.replayed.from=<p>/<o>, which says where the record came back
// from (make dlq shows the letter as replayed; should the record fail again, its new letter
// carries the header too). Safe to repeat: the event keeps its id, so every consumer that
// already applied it skips it, and only the one that gave up applies it now.
import { DEAD_LETTER_TOPIC, deadLetterHeaderNames as h, headersAsText, partitionOffsets } from '@shop/kit';
import { dlqPlace, REPLAYED_FROM_HEADER } from './format.ts';
import { parseWholeNumber, UsageError } from './options.ts';
import { kafka, readRanges, runCommand, stopSignal, withAdmin, writeLine } from './inspect.ts';

await runCommand('replay-dlq', async () => {
  const usage = 'usage: make replay-dlq PARTITION=<dlq partition> OFFSET=<dlq offset>   (make dlq lists them)';
  if (!process.env['OFFSET']) throw new UsageError(usage);
  const partition = Number(parseWholeNumber('PARTITION', process.env['PARTITION'], '0'));
  const offset = parseWholeNumber('OFFSET', process.env['OFFSET']);

  const held = await withAdmin(async (admin) => (await partitionOffsets(admin, DEAD_LETTER_TOPIC)).find((p) => p.partition === partition));
  if (!held) throw new UsageError(`${DEAD_LETTER_TOPIC} has no partition ${partition}`);
  if (offset < held.low || offset >= held.high) {
    const holds = held.high === held.low ? 'is empty' : `holds offsets ${held.low} to ${held.high - 1n}, not ${offset}`;
    throw new UsageError(`${DEAD_LETTER_TOPIC} partition ${partition} ${holds}; make dlq lists the letters`);
  }

  const read: { key: Buffer | null; value: Buffer | null; headers: Record<string, string> }[] = [];
  await readRanges([{ topic: DEAD_LETTER_TOPIC, partition, start: offset, end: offset + 1n }], async (_topic, _partition, message) => {
    read.push({ key: message.key, value: message.value, headers: headersAsText(message.headers) });
    return 'stop';
  });
  if (stopSignal.aborted) return 130;
  const [letter] = read;
  if (!letter) throw new Error(`no record read at ${DEAD_LETTER_TOPIC} ${partition}/${offset}`);
  const source = letter.headers[h.topic];
  if (!source) throw new UsageError(`${DEAD_LETTER_TOPIC} ${partition}/${offset} has no ${h.topic} header: not a dead letter`);
  if (letter.headers[h.valueDropped] !== undefined)
    throw new UsageError(
      `${DEAD_LETTER_TOPIC} ${partition}/${offset} was written without its value (${letter.headers[h.valueDropped]}): ` +
        `the record is at ${source} partition ${letter.headers[h.partition]} offset ${letter.headers[h.offset]}, while that topic keeps it`,
    );

  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !name.startsWith('dlq.'))),
    [REPLAYED_FROM_HEADER]: dlqPlace(partition, offset),
  };
  // Idempotent: a send retried after a lost answer must not write the letter twice.
  const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const [sent] = await producer.send({ topic: source, messages: [{ key: letter.key, value: letter.value, headers }] });
    await writeLine(
      `replayed dlq ${partition}/${offset} (event ${headers['id'] ?? '?'}, failed in ${letter.headers[h.group]}: ${letter.headers[h.error]}) to ${source} partition ${sent?.partition} offset ${sent?.baseOffset}`,
    );
  } finally {
    await producer.disconnect();
  }
});
