// The kit's consumer against the real Kafka, registry and PostgreSQL, in a scratch database
// of its own: an event delivered twice is applied once; a message that cannot be decoded,
// or whose handler keeps failing, lands in `dlq` with the contract's headers, and the
// consumer goes on with the next one.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventCodec, EventConsumer, deadLetterHeaderNames, migratePlatform, type Logger, type Sql, type UserRegistered } from '@shop/kit';
import { startGroupAtEnd, TopicRecorder, type ReceivedRecord } from '../harness/kafka.ts';
import { connectAsSuperuser, controlComponent, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const topic = 'user-registration';
const group = `consumer-test-${randomUUID()}`;
const database = 'kit_consumer_test';
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
/** Short retries, so that a failing event reaches its verdict in well under a second. */
const testSettings = {
  maxAttempts: 3,
  retryBaseMs: 50,
  retryMaxMs: 200,
  partitionsConsumedConcurrently: 3,
  batchSize: 100,
  commitIntervalMs: 1_000,
  // Short, so that a handler can outlast it in a test of seconds; twice an idle fetch's wait
  // (5 s, after which kafkajs heartbeats), so that an idle member is not dropped meanwhile.
  sessionTimeoutMs: 10_000,
};
const codec = new EventCodec(endpoints.registryUrl);
const kafka = new Kafka({ clientId: 'consumer-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.ERROR });

let sql: Sql;
let producer: Producer;
const kafkaAdmin = kafka.admin();
let consumer: EventConsumer;
let deadLetters: TopicRecorder;
const metrics = new Registry();
/** The ids the consumer told its filter it applied, in order. */
const toldApplied: string[] = [];
/** While set, the handler of a `gate-` event waits for it: the consumer fetches nothing meanwhile. */
let gate: { reached: boolean; opened: Promise<void> } | undefined;
/** Effects the handler staged for the batch's finisher to write, by transaction. */
const staged = new WeakMap<object, { eventId: string; username: string }[]>();

function registration(username: string): UserRegistered {
  return { userId: randomUUID(), username, email: `${username}@example.test`, fullName: null, role: 'customer', registeredAt: Date.now() };
}

/** Where the message landed: its partition and offset. */
async function send(key: string, value: Buffer, headers: Record<string, string>): Promise<{ partition: number; offset: bigint }> {
  const [sent] = await producer.send({ topic, messages: [{ key, value, headers }] });
  return { partition: sent!.partition, offset: BigInt(sent!.baseOffset!) };
}

async function sendEvent(key: string, event: UserRegistered, id: string = randomUUID()): Promise<string> {
  await send(key, await codec.encode(topic, event), { id, type: topic });
  return id;
}

async function waitUntil(description: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Starts a consumer and waits until it has joined its group. */
async function startAndJoin(member: EventConsumer): Promise<void> {
  await member.start();
  await waitUntil('the consumer to join its group', () =>
    member.ready().then(
      () => true,
      () => false,
    ),
  );
}

const appliedCount = async (username: string) =>
  (await sql<[{ count: number }]>`select count(*)::int as count from effects where username = ${username}`)[0].count;

const lettersOfThisGroup = (records: ReceivedRecord[]) => records.filter((r) => r.headers[deadLetterHeaderNames.group] === group);

beforeAll(async () => {
  const admin = connectAsSuperuser('postgres');
  const [exists] = await admin`select 1 from pg_database where datname = ${database}`;
  if (!exists) await admin.unsafe(`create database ${database}`);
  await admin.end();

  sql = connectAsSuperuser(database);
  // What a service database has: the outbox publication, then the platform tables.
  const [publication] = await sql`select 1 from pg_publication where pubname = 'outbox'`;
  if (!publication) await sql`create publication outbox with (publish = 'insert')`;
  await migratePlatform(sql);
  await sql`create table if not exists effects (event_id uuid not null, username text not null)`;
  await sql`create table if not exists lock_observations (event_id uuid not null, aggregate_locked boolean not null)`;

  // Start this group at the end of the topic: it sees only what the tests send.
  await startGroupAtEnd(kafka, group, topic);

  producer = kafka.producer();
  await producer.connect();
  await kafkaAdmin.connect();
  deadLetters = await TopicRecorder.start(endpoints.kafkaBrokers, ['dlq']);
  consumer = new EventConsumer({
    group,
    kafka,
    sql,
    codec,
    logger: quiet,
    metrics,
    settings: testSettings,
    filter: {
      isNeedless: (event) => (event.value as UserRegistered).username.startsWith('needless-'),
      applied: (events) => toldApplied.push(...events.map((event) => event.id)),
    },
    finishBatch: async (tx) => {
      const effects = staged.get(tx) ?? [];
      staged.delete(tx);
      if (effects.length === 0) return;
      const breaking = effects.find((effect) => effect.username.startsWith('staged-breaks'));
      if (breaking) throw new Error(`the finisher refuses ${breaking.username}`);
      await tx`insert into effects ${tx(effects, 'eventId', 'username')}`;
    },
    handlers: {
      'user-registration': async (tx, event) => {
        if (event.value.username.startsWith('staged-')) {
          staged.set(tx, [...(staged.get(tx) ?? []), { eventId: event.id, username: event.value.username }]);
          return;
        }
        if (event.value.username.startsWith('gate-') && gate) {
          gate.reached = true;
          await gate.opened;
        }
        if (event.value.username.startsWith('breaks-rule')) throw new Error(`business rule broken by ${event.value.username}`);
        if (event.value.username.startsWith('lock-')) {
          // Whether this transaction holds the advisory lock of lockAggregate(tx, event.key) as
          // the handler starts (pg_locks shows a bigint key as its two 32-bit halves).
          await tx`
            insert into lock_observations (event_id, aggregate_locked)
            select ${event.id}, exists (
              select 1 from pg_locks
              where locktype = 'advisory' and pid = pg_backend_pid() and objsubid = 1
                and ((classid::bigint << 32) | objid::bigint) = hashtextextended(${event.key}, 0))`;
        }
        await tx`insert into effects (event_id, username) values (${event.id}, ${event.value.username})`;
      },
    },
  });
  await startAndJoin(consumer);
});

afterAll(async () => {
  await consumer?.stop();
  await producer?.disconnect();
  await kafkaAdmin.disconnect();
  await deadLetters?.stop();
  await sql?.end();
});

describe('the consumer', () => {
  it('applies an event delivered twice (same id) once', async () => {
    const key = randomUUID();
    const event = registration(`twice-${key.slice(0, 8)}`);
    const id = await sendEvent(key, event);
    await sendEvent(key, event, id);
    const sentinel = registration(`sentinel-${key.slice(0, 8)}`);
    await sendEvent(key, sentinel);
    await waitUntil('the sentinel to be applied', async () => (await appliedCount(sentinel.username)) === 1);

    expect(await appliedCount(event.username)).toBe(1);
    const processed = await sql`select 1 from processed_events where consumer = ${group} and event_id = ${id}`;
    expect(processed).toHaveLength(1);
  });

  it('applies an event whose id is in upper case, once, as the same event as its lower-case form', async () => {
    const key = randomUUID();
    const event = registration(`upper-${key.slice(0, 8)}`);
    const id = randomUUID();
    const appliedAfter = async (sentinelName: string) => {
      const sentinel = registration(`${sentinelName}-${key.slice(0, 8)}`);
      await sendEvent(key, sentinel);
      await waitUntil(`${sentinelName} to be applied`, async () => (await appliedCount(sentinel.username)) === 1);
      return sql`select event_id from effects where username = ${event.username}`;
    };
    await sendEvent(key, event, id.toUpperCase());
    expect(await appliedAfter('sentinel-upper')).toEqual([{ eventId: id }]);
    await sendEvent(key, event, id);
    expect(await appliedAfter('sentinel-lower')).toEqual([{ eventId: id }]);
  });

  it("holds the lock of each event's aggregate before its handler runs, also for an event alone in its batch", async () => {
    const key = randomUUID();
    const id = await sendEvent(key, registration(`lock-${key.slice(0, 8)}`));
    await waitUntil(
      'the event to be applied',
      async () => (await sql`select 1 from lock_observations where event_id = ${id}`).length === 1,
    );
    const [observation] = await sql<[{ aggregateLocked: boolean }]>`select aggregate_locked from lock_observations where event_id = ${id}`;
    expect(observation.aggregateLocked).toBe(true);
  });

  it('skips what its filter finds needless before any transaction, and tells the filter what it applied after the commit', async () => {
    const key = randomUUID();
    const needlessId = await sendEvent(key, registration(`needless-${key.slice(0, 8)}`));
    const sentinel = registration(`after-needless-${key.slice(0, 8)}`);
    const sentinelId = await sendEvent(key, sentinel);
    await waitUntil('the event after the needless one to be applied', async () => (await appliedCount(sentinel.username)) === 1);

    expect(await appliedCount(`needless-${key.slice(0, 8)}`)).toBe(0);
    expect(await sql`select 1 from processed_events where consumer = ${group} and event_id = ${needlessId}`).toHaveLength(0);
    expect(toldApplied).toContain(sentinelId);
    expect(toldApplied).not.toContain(needlessId);
    const needless = (await metrics.getSingleMetric('consumer_events_total')!.get()).values.find((v) => v.labels['outcome'] === 'needless');
    expect(needless?.value).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters undecodable messages at once, with their origin and reason, and goes on', async () => {
    const key = randomUUID();
    const notAvro = Buffer.from('{"this": "is json, not avro"}');
    const unknownSchema = Buffer.concat([Buffer.from([0]), Buffer.from([0x7f, 0xff, 0xff, 0x00]), Buffer.from('junk')]);
    const validButNoId = await codec.encode(topic, registration(`no-id-${key.slice(0, 8)}`));
    await send(key, notAvro, { id: randomUUID(), type: topic });
    await send(key, unknownSchema, { id: randomUUID(), type: topic });
    await send(key, validButNoId, { type: topic });
    const after = registration(`after-poison-${key.slice(0, 8)}`);
    await sendEvent(key, after);

    await waitUntil('the event after the poison to be applied', async () => (await appliedCount(after.username)) === 1);
    await deadLetters.waitFor('three dead letters', (records) => lettersOfThisGroup(records).filter((r) => r.key === key).length >= 3);

    const letters = lettersOfThisGroup(deadLetters.records).filter((r) => r.key === key);
    expect(letters.map((r) => r.value)).toEqual([notAvro, unknownSchema, validButNoId]);
    for (const letter of letters) {
      expect(letter.headers).toMatchObject({
        type: topic,
        [deadLetterHeaderNames.topic]: topic,
        [deadLetterHeaderNames.partition]: expect.stringMatching(/^\d+$/),
        [deadLetterHeaderNames.offset]: expect.stringMatching(/^\d+$/),
        [deadLetterHeaderNames.group]: group,
        [deadLetterHeaderNames.attempts]: '1',
        [deadLetterHeaderNames.reason]: 'UNDECODABLE',
        [deadLetterHeaderNames.error]: expect.stringMatching(/.{10,}/),
      });
    }
    expect(letters[1]!.headers[deadLetterHeaderNames.error]).toMatch(/not a decodable/);
    expect(letters[2]!.headers[deadLetterHeaderNames.error]).toMatch(/id header/);
  });

  it('dead-letters a record too large to be written to dlq with its value without the value, and goes on', async () => {
    const key = randomUUID();
    // Just under the broker's limit for a record batch (message.max.bytes, 1,048,588 by
    // default): the letter's own headers take it over.
    const huge = Buffer.alloc(1_048_400, 'x');
    const { partition, offset } = await send(key, huge, { type: topic });
    const after = registration(`after-huge-${key.slice(0, 8)}`);
    await sendEvent(key, after);

    await waitUntil('the event after the huge record to be applied', async () => (await appliedCount(after.username)) === 1, 30_000);
    await deadLetters.waitFor('its dead letter', (records) => lettersOfThisGroup(records).some((r) => r.key === key));
    const [letter] = lettersOfThisGroup(deadLetters.records).filter((r) => r.key === key);
    expect(letter?.value).toBeNull();
    expect(letter?.headers).toMatchObject({
      [deadLetterHeaderNames.partition]: String(partition),
      [deadLetterHeaderNames.offset]: String(offset),
      [deadLetterHeaderNames.reason]: 'UNDECODABLE',
      [deadLetterHeaderNames.valueDropped]: '1048400 bytes, refused by Kafka: MESSAGE_TOO_LARGE',
    });
  });

  it('retries an event whose handler keeps failing, dead-letters it after the configured attempts, and goes on', async () => {
    const key = randomUUID();
    const breaking = registration(`breaks-rule-${key.slice(0, 8)}`);
    const id = await sendEvent(key, breaking);
    const after = registration(`after-failure-${key.slice(0, 8)}`);
    await sendEvent(key, after);

    await waitUntil('the next event to be applied', async () => (await appliedCount(after.username)) === 1);
    await deadLetters.waitFor('the dead letter', (records) => lettersOfThisGroup(records).some((r) => r.headers['id'] === id));
    const [letter] = lettersOfThisGroup(deadLetters.records).filter((r) => r.headers['id'] === id);
    expect(letter!.headers).toMatchObject({
      [deadLetterHeaderNames.attempts]: '3',
      [deadLetterHeaderNames.reason]: 'HANDLER_FAILED',
      [deadLetterHeaderNames.error]: expect.stringContaining(`business rule broken by ${breaking.username}`),
    });
    expect(await codec.decode(topic, letter!.value!)).toEqual(breaking);
    // Nothing of the failed event was kept: not its effects, not its processed mark.
    expect(await appliedCount(breaking.username)).toBe(0);
    expect(await sql`select 1 from processed_events where consumer = ${group} and event_id = ${id}`).toHaveLength(0);
  });

  it('applies a batch in one transaction, and isolates a failing message in it by applying the batch one by one', async () => {
    const batchOutcomes = async () => {
      const counter = await metrics.getSingleMetric('consumer_batches_total')!.get();
      const count = (outcome: string) => counter.values.filter((v) => v.labels['outcome'] === outcome).reduce((sum, v) => sum + v.value, 0);
      return { committed: count('committed'), failed: count('failed') };
    };
    const before = await batchOutcomes();
    // One key, so one partition; sent in one request, so fetched together.
    const key = randomUUID();
    const good = Array.from({ length: 30 }, (_, index) => registration(`batch-${index}-${key.slice(0, 8)}`));
    const goodBatch = await Promise.all(
      good.map(async (event) => ({ key, value: await codec.encode(topic, event), headers: { id: randomUUID(), type: topic } })),
    );
    await producer.send({ topic, messages: goodBatch });
    await waitUntil('the first batch to be applied', async () => (await appliedCount(good.at(-1)!.username)) === 1);
    const afterGood = await batchOutcomes();
    expect(afterGood.committed).toBeGreaterThan(before.committed);

    const mixed = Array.from({ length: 30 }, (_, index) =>
      registration(index === 12 ? `breaks-rule-in-batch-${key.slice(0, 8)}` : `mixed-${index}-${key.slice(0, 8)}`),
    );
    const mixedBatch = await Promise.all(
      mixed.map(async (event) => ({ key, value: await codec.encode(topic, event), headers: { id: randomUUID(), type: topic } })),
    );
    const failingId = mixedBatch[12]!.headers.id;
    await producer.send({ topic, messages: mixedBatch });
    await waitUntil('the last of the mixed batch to be applied', async () => (await appliedCount(mixed.at(-1)!.username)) === 1);
    await deadLetters.waitFor('the failing message of the batch', (records) =>
      lettersOfThisGroup(records).some((r) => r.headers['id'] === failingId),
    );

    // Every good event exactly once, the failing one not at all and dead-lettered alone.
    for (const [index, event] of [...good, ...mixed].entries()) {
      expect({ index, applied: await appliedCount(event.username) }).toEqual({ index, applied: index === 30 + 12 ? 0 : 1 });
    }
    const letters = lettersOfThisGroup(deadLetters.records).filter((r) => r.key === key);
    expect(letters.map((r) => r.headers['id'])).toEqual([failingId]);
    expect((await batchOutcomes()).failed).toBeGreaterThan(afterGood.failed);
  });

  it('stays in its group while a handler outlasts the session', async () => {
    const members = async () => (await kafkaAdmin.describeGroups([group])).groups[0]!.members.map((member) => member.memberId);
    const before = await members();
    expect(before).toHaveLength(1);
    let open!: () => void;
    gate = { reached: false, opened: new Promise((resolve) => (open = resolve)) };
    const key = randomUUID();
    const username = `gate-${key.slice(0, 8)}`;
    await sendEvent(key, registration(username));
    try {
      await waitUntil('the consumer to wait in the gate', () => Promise.resolve(gate!.reached));
      await new Promise((resolve) => setTimeout(resolve, testSettings.sessionTimeoutMs + 4_000));
    } finally {
      open();
      gate = undefined;
    }
    await waitUntil('the gated event to be applied', async () => (await appliedCount(username)) === 1);
    expect(await members()).toEqual(before);
  });

  it('applies the batches of partitions fetched together in one transaction; if it fails, each partition on its own', async () => {
    /** Holds the consumer in a handler while `send` produces, so that one fetch then finds it all. */
    const fetchedTogether = async (send: () => Promise<void>) => {
      let open!: () => void;
      gate = { reached: false, opened: new Promise((resolve) => (open = resolve)) };
      const key = randomUUID();
      await sendEvent(key, registration(`gate-${key.slice(0, 8)}`));
      await waitUntil('the consumer to wait in the gate', () => Promise.resolve(gate!.reached));
      await send();
      open();
      gate = undefined;
    };
    /** Two events for each partition of the topic, sent in one request; each with a key of its own unless `sharedKey` says. */
    const onEveryPartition = async (
      name: (partition: number, index: number) => string,
      sharedKey?: (partition: number, index: number) => boolean,
    ) => {
      const { partitions } = (await kafkaAdmin.fetchTopicMetadata({ topics: [topic] })).topics[0]!;
      const shared = randomUUID();
      const events = partitions.flatMap(({ partitionId }) =>
        [0, 1].map((index) => ({
          partition: partitionId,
          id: randomUUID(),
          key: sharedKey?.(partitionId, index) ? shared : randomUUID(),
          event: registration(name(partitionId, index)),
        })),
      );
      await producer.send({
        topic,
        messages: await Promise.all(
          events.map(async ({ partition, id, key, event }) => ({
            partition,
            key,
            value: await codec.encode(topic, event),
            headers: { id, type: topic },
          })),
        ),
      });
      return events;
    };
    /** The transactions (their ids) that recorded these events, by partition. */
    const transactionsOf = async (events: { partition: number; id: string }[]) => {
      const rows = await sql<{ eventId: string; xmin: string }[]>`
        select event_id, xmin::text from processed_events where consumer = ${group} and event_id in ${sql(events.map((e) => e.id))}`;
      const xminOf = new Map(rows.map((row) => [row.eventId, row.xmin]));
      return {
        all: new Set(xminOf.values()),
        recorded: rows.length,
        byPartition: (p: number) => new Set(events.filter((e) => e.partition === p).map((e) => xminOf.get(e.id))),
      };
    };

    const tag = randomUUID().slice(0, 8);
    let good: Awaited<ReturnType<typeof onEveryPartition>> = [];
    await fetchedTogether(async () => {
      good = await onEveryPartition((partition, index) => `together-${partition}-${index}-${tag}`);
    });
    await waitUntil('every event to be applied', async () => (await transactionsOf(good)).recorded === good.length);
    expect(new Set(good.map((e) => e.partition)).size).toBeGreaterThan(1);
    expect((await transactionsOf(good)).all.size).toBe(1);

    let mixed: Awaited<ReturnType<typeof onEveryPartition>> = [];
    await fetchedTogether(async () => {
      mixed = await onEveryPartition((partition, index) =>
        partition === 1 && index === 0 ? `breaks-rule-gathered-${tag}` : `apart-${partition}-${index}-${tag}`,
      );
    });
    const failing = mixed.find((e) => e.event.username.startsWith('breaks-rule'))!;
    const rest = mixed.filter((e) => e !== failing);
    await deadLetters.waitFor('the failing event', (records) => lettersOfThisGroup(records).some((r) => r.headers['id'] === failing.id));
    await waitUntil('the others to be applied', async () => (await transactionsOf(rest)).recorded === rest.length);
    for (const { event } of mixed)
      expect({ username: event.username, applied: await appliedCount(event.username) }).toEqual({
        username: event.username,
        applied: event === failing.event ? 0 : 1,
      });
    // The partitions without the failing event were applied each in a transaction of its own.
    const applied = await transactionsOf(rest);
    expect(applied.byPartition(0).size).toBe(1);
    expect(applied.byPartition(2).size).toBe(1);
    expect([...applied.byPartition(0)][0]).not.toBe([...applied.byPartition(2)][0]);

    // Batches that share a key (an order's events on two topics, in a service) never share a
    // transaction: each is applied after the other has committed, as the handlers expect.
    let keyed: Awaited<ReturnType<typeof onEveryPartition>> = [];
    await fetchedTogether(async () => {
      keyed = await onEveryPartition(
        (partition, index) => `keyed-${partition}-${index}-${tag}`,
        (partition, index) => partition < 2 && index === 0,
      );
    });
    await waitUntil('the keyed events to be applied', async () => (await transactionsOf(keyed)).recorded === keyed.length);
    const byKey = await transactionsOf(keyed);
    expect(byKey.all.size).toBe(2);
    expect([...byKey.byPartition(0)][0]).not.toBe([...byKey.byPartition(1)][0]);
  });

  it("runs the finisher last in each batch's transaction, and isolates a message it fails on as a handler's", async () => {
    // One key, so one partition; sent in one request, so fetched together.
    const key = randomUUID();
    const events = Array.from({ length: 20 }, (_, index) =>
      registration(index === 7 ? `staged-breaks-${key.slice(0, 8)}` : `staged-${index}-${key.slice(0, 8)}`),
    );
    const messages = await Promise.all(
      events.map(async (event) => ({ key, value: await codec.encode(topic, event), headers: { id: randomUUID(), type: topic } })),
    );
    const failingId = messages[7]!.headers.id;
    await producer.send({ topic, messages });
    await waitUntil('the last staged event to be applied', async () => (await appliedCount(events.at(-1)!.username)) === 1);
    await deadLetters.waitFor('the message the finisher failed on', (records) =>
      lettersOfThisGroup(records).some((r) => r.headers['id'] === failingId),
    );
    // What the finisher wrote committed with the events' ids: each good event once, the failing one not at all.
    for (const [index, event] of events.entries()) {
      expect({ index, applied: await appliedCount(event.username) }).toEqual({ index, applied: index === 7 ? 0 : 1 });
    }
    const [recorded] = await sql<[{ count: number }]>`
      select count(*)::int as count from processed_events where event_id = any(${messages.map((m) => m.headers.id)}::uuid[])`;
    expect(recorded.count).toBe(19);
  });

  it('waits out an outage of its database instead of dead-lettering a good event', async () => {
    const key = randomUUID();
    const event = registration(`outage-${key.slice(0, 8)}`);
    await controlComponent(inject('stackKind'), 'stop', 'postgres');
    let id: string;
    try {
      id = await sendEvent(key, event);
      // Far longer than the 3 attempts with at most 200 ms between them would take.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
    } finally {
      await controlComponent(inject('stackKind'), 'start', 'postgres');
    }
    await waitUntil('the event to be applied once the database is back', async () => (await appliedCount(event.username)) === 1);
    const sentinel = registration(`after-outage-${key.slice(0, 8)}`);
    await sendEvent(key, sentinel);
    await waitUntil('a later event to be applied', async () => (await appliedCount(sentinel.username)) === 1);
    expect(lettersOfThisGroup(deadLetters.records).filter((r) => r.headers['id'] === id)).toHaveLength(0);
  });
});

describe("the consumer's offset commits", () => {
  it('commits applied offsets at most once per interval, also those of a partition gone quiet, and the rest when it stops, and counts its requests', async () => {
    const commitIntervalMs = 2_000;
    const committerMetrics = new Registry();
    const commitGroup = `consumer-commits-test-${randomUUID()}`;
    await startGroupAtEnd(kafka, commitGroup, topic);
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    const committed = async (partition: number): Promise<bigint> => {
      const [offsets] = await kafkaAdmin.fetchOffsets({ groupId: commitGroup, topics: [topic] });
      return BigInt(offsets!.partitions.find((p) => p.partition === partition)!.offset);
    };
    // Its own table: the suite's consumer applies the same messages to `effects`.
    await sql`create table if not exists commit_effects (username text not null)`;
    const appliedHere = async (username: string) =>
      (await sql<[{ count: number }]>`select count(*)::int as count from commit_effects where username = ${username}`)[0].count;
    const committer = new EventConsumer({
      group: commitGroup,
      kafka,
      sql,
      codec,
      logger: quiet,
      settings: { ...testSettings, commitIntervalMs },
      metrics: committerMetrics,
      handlers: {
        'user-registration': async (tx, event) => {
          await tx`insert into commit_effects (username) values (${event.value.username})`;
        },
      },
    });
    let stopped = false;
    try {
      await startAndJoin(committer);
      // One key, so one partition; each message applied before the next is sent, so each is a
      // batch of its own, which kafkajs alone would commit each time.
      const key = randomUUID();
      const seen = new Set<bigint>();
      let partition = -1;
      let lastOffset = -1n;
      const sendingStarted = Date.now();
      for (let i = 0; i < 8; i++) {
        const event = registration(`commit-${key.slice(0, 8)}-${i}`);
        const sent = await send(key, await codec.encode(topic, event), { id: randomUUID(), type: topic });
        partition = sent.partition;
        lastOffset = sent.offset;
        await waitUntil('the message to be applied', async () => (await appliedHere(event.username)) === 1);
        seen.add(await committed(partition));
      }
      const sendingTook = Date.now() - sendingStarted;
      // At most one commit per interval while messages flow (plus the offset before the first).
      expect(seen.size).toBeLessThanOrEqual(2 + Math.floor(sendingTook / commitIntervalMs));

      // Quiet now: the last offset is committed after the interval, by the next (empty) fetch.
      await waitUntil('the quiet partition to be committed', async () => (await committed(partition)) === lastOffset + 1n, 30_000);

      // Applied within the interval, then stopped: committed on the way out.
      const last = registration(`commit-${key.slice(0, 8)}-last`);
      const sent = await send(key, await codec.encode(topic, last), { id: randomUUID(), type: topic });
      await waitUntil('the last message to be applied', async () => (await appliedHere(last.username)) === 1);
      await committer.stop();
      stopped = true;
      expect(await committed(partition)).toBe(sent.offset + 1n);
      // Nine messages, each fetched on its own; the quiet partition's commit and the last one.
      const requests = (await committerMetrics.getSingleMetric('consumer_kafka_requests_total')!.get()).values;
      const requestsTo = (api: string) => requests.filter((v) => v.labels['api'] === api).reduce((sum, v) => sum + v.value, 0);
      expect(requestsTo('Fetch')).toBeGreaterThanOrEqual(9);
      expect(requestsTo('OffsetCommit')).toBeGreaterThanOrEqual(2);
    } finally {
      if (!stopped) await committer.stop();
      await kafkaAdmin.disconnect();
    }
  });
});

describe('a consumer applying several keys of a batch at once (keysInParallel)', () => {
  it("overlaps different keys' handlers, keeps each key's order, and isolates a failing event without applying anything twice", async () => {
    const parallelGroup = `consumer-parallel-test-${randomUUID()}`;
    await startGroupAtEnd(kafka, parallelGroup, topic);
    // Its own table: the suite's consumer applies the same messages to `effects`.
    await sql`create table if not exists parallel_effects (username text not null)`;
    const appliedHere = async (username: string) =>
      (await sql<[{ count: number }]>`select count(*)::int as count from parallel_effects where username = ${username}`)[0].count;
    const runs: { username: string; key: string; started: number; ended: number }[] = [];
    // Only this test's events are slow and recorded (whatever else the group may be handed).
    const tag = randomUUID().slice(0, 8);
    const parallel = new EventConsumer({
      group: parallelGroup,
      kafka,
      sql,
      codec,
      logger: quiet,
      keysInParallel: 3,
      settings: {
        maxAttempts: 2,
        retryBaseMs: 50,
        retryMaxMs: 200,
        partitionsConsumedConcurrently: 3,
        batchSize: 100,
        commitIntervalMs: 0,
      },
      handlers: {
        'user-registration': async (tx, event) => {
          if (!event.value.username.includes(tag)) return;
          const started = Date.now();
          // A wait outside the database, as a gateway call is.
          await new Promise((resolve) => setTimeout(resolve, 100));
          if (event.value.username.startsWith('breaks-rule')) throw new Error(`business rule broken by ${event.value.username}`);
          await tx`insert into parallel_effects (username) values (${event.value.username})`;
          runs.push({ username: event.value.username, key: event.key, started, ended: Date.now() });
        },
      },
    });
    try {
      await startAndJoin(parallel);
      // Four keys, three events each, interleaved, all on one partition and in one request, so fetched as one batch.
      const keys = Array.from({ length: 4 }, () => randomUUID());
      const events = [0, 1, 2].flatMap((n) => keys.map((key, k) => ({ key, event: registration(`parallel-${tag}-${k}-${n}`) })));
      const send = (batch: typeof events) =>
        Promise.all(
          batch.map(async ({ key, event }) => ({
            key,
            partition: 0,
            value: await codec.encode(topic, event),
            headers: { id: randomUUID(), type: topic },
          })),
        ).then((messages) => producer.send({ topic, messages }));
      await send(events);
      await waitUntil('every event to be applied', async () => {
        for (const { event } of events) if ((await appliedHere(event.username)) !== 1) return false;
        return true;
      });
      for (const key of keys) {
        const ofKey = runs.filter((run) => run.key === key);
        expect(ofKey.map((run) => run.username)).toEqual(events.filter((e) => e.key === key).map((e) => e.event.username));
        // One key's events one after the other: each starts after the one before ended.
        for (let i = 1; i < ofKey.length; i++) expect(ofKey[i]!.started).toBeGreaterThanOrEqual(ofKey[i - 1]!.ended);
      }
      // How many ran at once, at the moment each started.
      const mostAtOnce = Math.max(
        ...runs.map(({ started }) => runs.filter((other) => other.started <= started && other.ended > started).length),
      );
      expect(mostAtOnce).toBeGreaterThan(1);
      expect(mostAtOnce).toBeLessThanOrEqual(3);

      // A failing event among them: the batch is rolled back once every key under way has
      // finished, then applied one by one; the failing event is dead-lettered, the rest applied once.
      const mixed = [0, 1].flatMap((n) => keys.map((key, k) => ({ key, event: registration(`parallel-mixed-${tag}-${k}-${n}`) })));
      mixed[5] = { key: mixed[5]!.key, event: registration(`breaks-rule-parallel-${tag}`) };
      await send(mixed);
      await waitUntil('the good events of the mixed batch to be applied', async () => {
        for (const { event } of mixed.filter((_, index) => index !== 5)) if ((await appliedHere(event.username)) !== 1) return false;
        return true;
      });
      await deadLetters.waitFor('the failing event of the parallel batch', (records) =>
        records.some((r) => r.headers[deadLetterHeaderNames.group] === parallelGroup && r.key === mixed[5]!.key),
      );
      for (const [index, { event }] of mixed.entries()) {
        expect({ index, applied: await appliedHere(event.username) }).toEqual({ index, applied: index === 5 ? 0 : 1 });
      }
    } finally {
      await parallel.stop();
    }
  });
});

describe('a consumer that cannot reach Kafka', () => {
  it('tries again every few seconds until stopped, and tries no more once stopped', async () => {
    // Nothing listens on the discard port: each start fails at once.
    const unreachable = new Kafka({
      clientId: 'consumer-test-unreachable',
      brokers: ['127.0.0.1:9'],
      logLevel: logLevel.NOTHING,
      retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
    });
    const failedStarts: object[] = [];
    const member = new EventConsumer({
      group: `consumer-unreachable-test-${randomUUID()}`,
      kafka: unreachable,
      sql,
      codec,
      logger: { ...quiet, error: (entry) => failedStarts.push(entry) },
      settings: testSettings,
      handlers: { 'user-registration': async () => undefined },
    });
    const starting = member.keepStarting();
    await waitUntil('a second failed start', async () => failedStarts.length >= 2, 20_000);
    await member.stop();
    await starting;
    const afterStop = failedStarts.length;
    // Longer than the pause between two tries.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(failedStarts.length).toBe(afterStop);
    await expect(member.ready()).rejects.toThrow(/has not joined/);
  });
});
