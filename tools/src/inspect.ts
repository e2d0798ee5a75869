// What the operator commands (make topics / tail / events / dlq / replay-dlq) share: a Kafka
// client, a record turned into JSON with its value decoded through the registry, a reader of
// partition ranges that uses a throwaway consumer group and removes it again, output that
// waits for a slow reader instead of losing lines, and an exit that happens only once
// everything written has been handed to the reader.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import {
  deadLetterHeaderNames,
  EventCodec,
  eventTopics,
  headersAsText,
  partitionOffsets,
  requireEnv,
  wireSchemaId,
  type EventTopic,
  type PartitionOffsets,
} from '@shop/kit';
import { UsageError, type StartPosition } from './options.ts';
import type { RecordView } from './format.ts';

let client: Kafka | undefined;
let codec: EventCodec | undefined;

/** The Kafka client (created on first use, so that a usage error needs no environment). */
export function kafka(): Kafka {
  client ??= new Kafka({ clientId: 'shop-inspect', brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  return client;
}

export const isEventTopic = (topic: string | undefined): topic is EventTopic => (eventTopics as readonly string[]).includes(topic ?? '');

/**
 * Why the records of a writer schema id could not be decoded: asked once, so that an id the
 * registry does not know, or a registry that does not answer (each lookup retried for
 * seconds), costs that wait once per command rather than once per record.
 */
const undecodableSchemas = new Map<number, string>();

/**
 * A record's value as this checkout's schema reads it, or else as its writer's schema wrote
 * it (a newer schema, with a symbol or a field this checkout does not know, during a rolling
 * upgrade say). A dead letter's value is decoded as an event of the topic it came from.
 */
async function decodeValue(topic: string, headers: Record<string, string>, value: Buffer | null): Promise<unknown> {
  if (!value) return null;
  const schemaTopic = topic === 'dlq' ? headers[deadLetterHeaderNames.topic] : topic;
  if (!isEventTopic(schemaTopic)) return { undecoded: value.toString('base64') };
  const undecodable = (reason: string) => ({ undecodable: reason, base64: value.toString('base64') });
  let schemaId: number;
  try {
    schemaId = wireSchemaId(value);
  } catch (error) {
    return undecodable((error as Error).message);
  }
  const unknownSchema = undecodableSchemas.get(schemaId);
  if (unknownSchema !== undefined) return undecodable(unknownSchema);
  codec ??= new EventCodec(requireEnv('REGISTRY_URL'));
  try {
    await codec.writerType(schemaId);
  } catch (error) {
    undecodableSchemas.set(schemaId, (error as Error).message);
    return undecodable((error as Error).message);
  }
  try {
    return await codec.decode(schemaTopic, value);
  } catch (error) {
    // Not a body this checkout's schema can resolve: as written, unless the body is no Avro of it at all.
    return codec.decodeAsWritten(value).catch(() => undecodable((error as Error).message));
  }
}

export async function describeRecord(topic: string, partition: number, message: KafkaMessage): Promise<RecordView> {
  const headers = headersAsText(message.headers);
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: recordTime(message),
    key: message.key?.toString() ?? null,
    headers,
    value: await decodeValue(topic, headers, message.value),
  };
}

// Stopping: Ctrl-C (SIGINT), SIGTERM, or the reader closing the pipe (`| head`). Readers stop
// at the next record, the throwaway group is deleted, and the command exits.
const stopping = new AbortController();
export const stopSignal = stopping.signal;
let outputClosed = false;
process.once('SIGINT', () => stopping.abort());
process.once('SIGTERM', () => stopping.abort());
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  outputClosed = true;
  stopping.abort();
});

/**
 * Writes one line to stdout and, when the reader is slower than we are, waits until it has
 * taken what is buffered: nothing piles up in memory and nothing is lost at exit.
 */
export async function writeLine(line: string): Promise<void> {
  if (outputClosed) return;
  if (process.stdout.write(`${line}\n`)) return;
  await drained(process.stdout);
}

export const print = (value: unknown): Promise<void> => writeLine(JSON.stringify(value));

async function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream === process.stdout && outputClosed) return;
  if (stream.writableLength === 0 || stream.destroyed) return;
  await Promise.race([once(stream, 'drain'), once(stream, 'close'), once(stream, 'error')]).catch(() => undefined);
}

/** Exits once stdout and stderr have handed everything to the reader. */
export async function exit(code: number): Promise<never> {
  process.exitCode = code;
  await drained(process.stdout);
  await drained(process.stderr);
  process.exit(code);
}

/**
 * Runs a command: its result is the exit code. A UsageError is one line and exit 2; any
 * other failure (Kafka unreachable, ...) one line and exit 1, without a stack trace.
 */
export async function runCommand(name: string, command: () => Promise<number | void>): Promise<never> {
  let code: number;
  try {
    code = (await command()) ?? 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      process.stderr.write(`${name}: ${message}\n`);
      code = 2;
    } else {
      const where =
        error instanceof Error && /KafkaJS|ECONNREFUSED|broker/i.test(`${error.name} ${message}`) && !message.includes('make status')
          ? ` (Kafka at ${process.env['KAFKA_BROKERS'] ?? '?'}; is the stack up? make status)`
          : '';
      process.stderr.write(`${name}: ${message}${where}\n`);
      code = 1;
    }
  }
  return exit(code);
}

/** Runs `use` with a connected admin client, disconnecting afterwards. */
export async function withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

// Kafka's own bookkeeping topics: never what an operator means.
const kafkaInternal = new Set(['__consumer_offsets', '__transaction_state', '__cluster_metadata']);

/** The topics an operator can read, sorted. */
export async function listTopics(admin: Admin): Promise<string[]> {
  return (await admin.listTopics()).filter((topic) => !kafkaInternal.has(topic)).sort();
}

/** Fails with one line naming the topics that exist when `topic` is not one of them. */
export async function requireTopic(admin: Admin, topic: string): Promise<void> {
  const topics = await listTopics(admin);
  if (topics.includes(topic)) return;
  throw new UsageError(
    `no topic named '${topic}'; ${topics.length > 0 ? `the topics are: ${topics.join(', ')}` : 'Kafka has no topics yet (make up creates them)'}`,
  );
}

/** The offsets in use over partitions: the records held, or more on a compacted topic. */
export const offsetsInUse = (offsets: PartitionOffsets[]): bigint => offsets.reduce((sum, p) => sum + (p.high - p.low), 0n);

/** When a record was written, as ISO 8601. */
export const recordTime = (message: KafkaMessage): string => new Date(Number(message.timestamp)).toISOString();

/** A range of one partition to read: from `start`, up to `end` (exclusive) or, when null, for as long as the command runs. */
export interface PartitionRange {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint | null;
}

/** Where a read of `topic` starts in each partition for a FROM value, up to `end` (null: follow). */
export async function rangesFrom(admin: Admin, topic: string, from: StartPosition, follow: boolean): Promise<PartitionRange[]> {
  const offsets = await partitionOffsets(admin, topic);
  const atTime =
    from.kind === 'time'
      ? new Map((await admin.fetchTopicOffsetsByTimestamp(topic, from.at.getTime())).map((p) => [p.partition, BigInt(p.offset)]))
      : undefined;
  return offsets.map(({ partition, low, high }) => {
    const clamp = (offset: bigint) => (offset < low ? low : offset > high ? high : offset);
    const start = {
      beginning: () => low,
      end: () => high,
      offset: () => clamp(from.kind === 'offset' ? from.offset : low),
      time: () => clamp(atTime?.get(partition) ?? high),
    }[from.kind]();
    return { topic, partition, start, end: follow ? null : high };
  });
}

/** Every record each topic holds now: from the oldest offset to the current end. */
export async function wholeTopics(admin: Admin, topics: string[]): Promise<PartitionRange[]> {
  const ranges: PartitionRange[] = [];
  for (const topic of topics) ranges.push(...(await rangesFrom(admin, topic, { kind: 'beginning' }, false)));
  return ranges;
}

/** What a record handler may answer: 'stop' ends the read early. */
export type RecordHandler = (topic: string, partition: number, message: KafkaMessage) => Promise<'stop' | void>;

/**
 * Reads the ranges, each record once and in order within its partition, and returns when
 * every bounded range is done, the handler says 'stop', or the command is stopped (Ctrl-C).
 *
 * KafkaJS has no group-less assign, so the read uses a consumer group of its own, which
 * commits nothing and is deleted on the way out: it subscribes, then seeks every partition
 * to its start. A fetch that began before the seek took effect may deliver records from
 * elsewhere, and a rebalance may deliver some twice: both are skipped by remembering the
 * next offset wanted in each partition. Progress also counts batches that hold nothing
 * deliverable (transaction markers), so a bounded read never waits for an offset that no
 * record has.
 */
export async function readRanges(ranges: PartitionRange[], onRecord: RecordHandler, onCaughtUp?: () => void): Promise<void> {
  const id = (topic: string, partition: number) => `${topic}/${partition}`;
  const next = new Map(ranges.map((r) => [id(r.topic, r.partition), r.start]));
  const ends = new Map(ranges.map((r) => [id(r.topic, r.partition), r.end]));
  // Bounded ranges still to finish; in a followed read, the records that were there at the start.
  const caughtUpAt = new Map(ranges.map((r) => [id(r.topic, r.partition), r.end]));
  const pending = new Set<string>();
  const behind = new Set<string>();
  const highs = new Map<string, bigint>();
  if (ranges.some((r) => r.end === null)) {
    const topics = [...new Set(ranges.map((r) => r.topic))];
    await withAdmin(async (admin) => {
      for (const topic of topics) for (const p of await partitionOffsets(admin, topic)) highs.set(id(topic, p.partition), p.high);
    });
  }
  for (const r of ranges) {
    const key = id(r.topic, r.partition);
    if (r.end !== null && r.start < r.end) pending.add(key);
    const upTo = r.end ?? highs.get(key) ?? r.start;
    caughtUpAt.set(key, upTo);
    if (r.start < upTo) behind.add(key);
  }
  const follow = ranges.some((r) => r.end === null);
  if (!follow && pending.size === 0) {
    onCaughtUp?.();
    return;
  }
  if (behind.size === 0) onCaughtUp?.();

  const groupId = `shop-inspect-${randomUUID()}`;
  const consumer = kafka().consumer({ groupId, maxWaitTimeInMs: 500, retry: { retries: 3 } });
  // Once finished, records KafkaJS still hands over before it has stopped are ignored.
  let finished = false;
  let finish!: (error?: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = (error?: Error) => {
      finished = true;
      if (error === undefined) resolve();
      else reject(error);
    };
  });

  const advance = (key: string, reached: bigint) => {
    if (reached > (next.get(key) ?? 0n)) next.set(key, reached);
    const end = ends.get(key);
    if (end !== null && end !== undefined && reached >= end && pending.delete(key) && !follow && pending.size === 0) finish();
    const upTo = caughtUpAt.get(key);
    if (upTo !== null && upTo !== undefined && reached >= upTo && behind.delete(key) && behind.size === 0) onCaughtUp?.();
  };

  const onStop = () => finish();
  stopSignal.addEventListener('abort', onStop);
  try {
    if (stopSignal.aborted) return;
    await consumer.connect();
    consumer.on(consumer.events.CRASH, ({ payload }) => finish(payload.error));
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // A batch of nothing but transaction markers or aborted records still moves the position.
      if (payload.batchSize === 0) advance(id(payload.topic, payload.partition), BigInt(payload.lastOffset) + 1n);
    });
    await consumer.subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (finished) return;
        const key = id(topic, partition);
        const offset = BigInt(message.offset);
        const wanted = next.get(key);
        const end = ends.get(key);
        if (wanted === undefined || offset < wanted) return;
        if (end !== null && end !== undefined && offset >= end) return advance(key, offset + 1n);
        next.set(key, offset + 1n);
        const answer = await onRecord(topic, partition, message);
        advance(key, offset + 1n);
        if (answer === 'stop') finish();
      },
    });
    for (const r of ranges)
      consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.end !== null && r.start >= r.end ? r.end : r.start) });
    await done;
  } finally {
    stopSignal.removeEventListener('abort', onStop);
    await consumer.disconnect().catch(() => undefined);
    // The group only existed for this read.
    await withAdmin((admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
}
