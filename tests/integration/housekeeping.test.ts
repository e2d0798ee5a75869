// The kit's pruning jobs against the real PostgreSQL, in a scratch database of their own:
// processed_events loses the rows older than its window and a redelivery inside the window is
// still skipped by the real consumer (Kafka and the registry too); the outbox loses only the
// rows that a replication slot has confirmed and that are older than the keep window, and
// nothing while the slot is missing or no connector reads it. The slot is a real logical
// slot on the scratch database, held open by a stand-in for Debezium that confirms exactly
// the WAL position the test tells it to.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import postgres from 'postgres';
import { Registry } from '@shop/kit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  EventCodec,
  EventConsumer,
  OutboxPruner,
  connectDatabase,
  housekeepingJobs,
  migratePlatform,
  parseLsn,
  pruneProcessedEvents,
  requireEnv,
  type Logger,
  type Sql,
  type UserRegistered,
} from '@shop/kit';
import { startGroupAtEnd } from '../harness/kafka.ts';
import { stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const database = 'kit_housekeeping_test';
// Not `outbox_<database>`: other tests look at every slot named so, and this one is ours.
const slot = 'kit_housekeeping_test_slot';
const DAY_MS = 24 * 3_600_000;
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

const credentials = {
  host: endpoints.pgHost,
  port: endpoints.pgPort,
  username: requireEnv('POSTGRES_USER'),
  password: requireEnv('POSTGRES_PASSWORD'),
};
const superuser = (db: string) => connectDatabase({ ...credentials, database: db, max: 3 });

let sql: Sql;

async function waitUntil(description: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await sleep(200);
  }
}

/** A logger that keeps its warnings, to see what the pruner says about the slot. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...quiet, warnings, warn: (_fields: object, message?: string) => void warnings.push(message ?? '') };
}

beforeAll(async () => {
  const admin = superuser('postgres');
  const [exists] = await admin`select 1 from pg_database where datname = ${database}`;
  if (!exists) await admin.unsafe(`create database ${database}`);
  await admin.end();

  sql = superuser(database);
  // What a service database has: the outbox publication, then the platform tables.
  const [publication] = await sql`select 1 from pg_publication where pubname = 'outbox'`;
  if (!publication) await sql`create publication outbox with (publish = 'insert')`;
  await migratePlatform(sql);
});

afterAll(async () => {
  await sql?.end();
});

describe('processed_events pruning', () => {
  const topic = 'user-registration';
  const group = `housekeeping-test-${randomUUID()}`;
  const codec = new EventCodec(endpoints.registryUrl);
  const kafka = new Kafka({ clientId: 'housekeeping-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.ERROR });
  let producer: Producer;
  let consumer: EventConsumer;

  beforeAll(async () => {
    await sql`create table if not exists effects (event_id uuid not null, username text not null)`;
    await sql`delete from processed_events`;
    await startGroupAtEnd(kafka, group, topic);
    producer = kafka.producer();
    await producer.connect();
    consumer = new EventConsumer({
      group,
      kafka,
      sql,
      codec,
      logger: quiet,
      settings: {
        maxAttempts: 3,
        retryBaseMs: 50,
        retryMaxMs: 200,
        partitionsConsumedConcurrently: 1,
        batchSize: 100,
        commitIntervalMs: 1_000,
      },
      handlers: {
        'user-registration': async (tx, event) => {
          await tx`insert into effects (event_id, username) values (${event.id}, ${event.value.username})`;
        },
      },
    });
    await consumer.start();
    await waitUntil('the consumer to join its group', () =>
      consumer.ready().then(
        () => true,
        () => false,
      ),
    );
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer?.disconnect();
  });

  const processedAgo = (id: string, ms: number) =>
    sql`insert into processed_events (consumer, event_id, topic, processed_at)
        values (${group}, ${id}, ${topic}, now() - make_interval(secs => ${ms / 1000}))`;
  const remembered = async (ids: string[]) =>
    (await sql<{ eventId: string }[]>`select event_id from processed_events where event_id = any(${ids}::uuid[])`).map(
      (row) => row.eventId,
    );
  const applied = async (username: string) =>
    (await sql<[{ count: number }]>`select count(*)::int as count from effects where username = ${username}`)[0].count;

  async function deliver(key: string, id: string, username: string): Promise<void> {
    const event: UserRegistered = {
      userId: randomUUID(),
      username,
      email: `${username}@example.test`,
      fullName: null,
      role: 'customer',
      registeredAt: Date.now(),
    };
    await producer.send({ topic, messages: [{ key, value: await codec.encode(topic, event), headers: { id, type: topic } }] });
  }

  it('deletes the rows older than the window, in batches, and keeps the younger ones', async () => {
    const old = Array.from({ length: 5 }, () => randomUUID());
    const young = [randomUUID(), randomUUID()];
    for (const id of old) await processedAgo(id, 9 * DAY_MS);
    await processedAgo(young[0]!, 7 * DAY_MS);
    await processedAgo(young[1]!, 0);

    // Batches of two: five old rows take three statements, and all five go.
    expect(await pruneProcessedEvents(sql, 8 * DAY_MS, { batchSize: 2 })).toBe(5);
    expect(await remembered(old)).toEqual([]);
    expect((await remembered(young)).sort()).toEqual([...young].sort());
  });

  it('still skips a redelivery the window remembers, and applies one it has forgotten again', async () => {
    const key = randomUUID();
    const [inside, outside] = [randomUUID(), randomUUID()];
    await processedAgo(inside, 7 * DAY_MS);
    await processedAgo(outside, 9 * DAY_MS);
    expect(await pruneProcessedEvents(sql, 8 * DAY_MS)).toBe(1);

    // One key, so one partition, in this order: the sentinel comes last.
    await deliver(key, inside, `inside-${key.slice(0, 8)}`);
    await deliver(key, outside, `outside-${key.slice(0, 8)}`);
    await deliver(key, randomUUID(), `sentinel-${key.slice(0, 8)}`);
    await waitUntil('the sentinel to be applied', async () => (await applied(`sentinel-${key.slice(0, 8)}`)) === 1);

    // Skipped: nothing applied, and the week-old row is the one that stays.
    expect(await applied(`inside-${key.slice(0, 8)}`)).toBe(0);
    const [kept] = await sql<[{ daysOld: number }]>`
      select extract(epoch from now() - processed_at)::float8 / 86400 as days_old from processed_events where event_id = ${inside}`;
    expect(kept.daysOld).toBeGreaterThan(6.9);
    // Why the window must outlast any redelivery: a forgotten event is applied a second time.
    expect(await applied(`outside-${key.slice(0, 8)}`)).toBe(1);
  });
});

/**
 * Stands in for Debezium: holds the slot (so it is `active`) and confirms exactly the WAL
 * position it is told, answering the server's keepalives with it, like a connector that has
 * published that far and no further.
 */
class SlotReader {
  private confirmed: bigint;
  private readonly connection: postgres.Sql;
  private readonly stream: Duplex;

  private constructor(connection: postgres.Sql, stream: Duplex, confirmed: bigint) {
    this.connection = connection;
    this.stream = stream;
    this.confirmed = confirmed;
    stream.on('data', (message: Buffer) => {
      // 'k': a keepalive; its last byte asks for an answer.
      if (message[0] === 0x6b && message[17] === 1) this.sendStatus();
    });
    stream.on('error', () => {});
  }

  static async start(slotName: string): Promise<SlotReader> {
    const connection = postgres({
      ...credentials,
      database,
      max: 1,
      fetch_types: false,
      connection: { replication: 'database' },
      onnotice: () => {},
    });
    const [{ confirmed }] = await sql<[{ confirmed: string }]>`
      select confirmed_flush_lsn::text as confirmed from pg_replication_slots where slot_name = ${slotName}`;
    const stream = (await connection
      .unsafe(`START_REPLICATION SLOT ${slotName} LOGICAL ${confirmed} (proto_version '1', publication_names 'outbox')`)
      .writable()) as Duplex;
    return new SlotReader(connection, stream, parseLsn(confirmed));
  }

  /** Confirms `lsn` and returns once pg_replication_slots shows it. */
  async confirm(lsn: string): Promise<void> {
    this.confirmed = parseLsn(lsn);
    this.sendStatus();
    await waitUntil(`the slot to confirm ${lsn}`, async () => {
      const [row] = await sql<[{ done: boolean }?]>`
        select confirmed_flush_lsn >= ${lsn}::pg_lsn as done from pg_replication_slots where slot_name = ${slot}`;
      return row?.done === true;
    });
  }

  async stop(): Promise<void> {
    this.stream.end();
    await this.connection.end({ timeout: 5 });
  }

  /** A standby status update: written, flushed and applied up to the confirmed position. */
  private sendStatus(): void {
    const message = Buffer.alloc(34);
    message.write('r', 0);
    message.writeBigUInt64BE(this.confirmed, 1);
    message.writeBigUInt64BE(this.confirmed, 9);
    message.writeBigUInt64BE(this.confirmed, 17);
    message.writeBigInt64BE(BigInt(Date.now() - Date.UTC(2000, 0, 1)) * 1000n, 25);
    this.stream.write(message);
  }
}

describe('outbox pruning', () => {
  // The pruner keeps times as JS Dates (milliseconds), the rows have microseconds: a row
  // written in the same millisecond as a marker would count as younger than it.
  const nextMillisecond = () => sleep(2);
  /**
   * A WAL position past every marker taken so far: some WAL is written first (a logical
   * message, as Debezium's heartbeat writes), since a marker counts only once the slot has
   * confirmed strictly past it.
   */
  async function positionPastMarkers(): Promise<string> {
    await sql`select pg_logical_emit_message(false, 'housekeeping-test', 'x')`;
    return (await sql<[{ lsn: string }]>`select pg_current_wal_insert_lsn()::text as lsn`)[0].lsn;
  }
  const outboxIds = async () => (await sql<{ id: string }[]>`select id from outbox order by created_at`).map((row) => row.id);
  async function write(agoMs = 0): Promise<string> {
    const id = randomUUID();
    await sql`
      insert into outbox (id, aggregatetype, aggregateid, type, payload, created_at)
      values (${id}, 'test', ${id}, 'housekeeping-test', ${Buffer.from('x')}, now() - make_interval(secs => ${agoMs / 1000}))`;
    await nextMillisecond();
    return id;
  }

  beforeAll(async () => {
    const [leftOver] = await sql`select 1 from pg_replication_slots where slot_name = ${slot}`;
    if (leftOver) await sql`select pg_drop_replication_slot(${slot})`;
  });

  it('deletes nothing, and warns at every run, while the slot does not exist', async () => {
    await sql`delete from outbox`;
    const old = await write(DAY_MS);
    const logger = recordingLogger();
    const pruner = new OutboxPruner({ sql, slot, keepMs: 0, graceMs: 0, logger });
    expect(await pruner.run()).toEqual({ slot: 'missing', deleted: 0 });
    expect(await pruner.run()).toEqual({ slot: 'missing', deleted: 0 });
    expect(await outboxIds()).toEqual([old]);
    expect(logger.warnings).toHaveLength(2);
    expect(logger.warnings[0]).toMatch(/no replication slot/);
  });

  describe('with a replication slot', () => {
    let reader: SlotReader | undefined;

    beforeAll(async () => {
      await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
    });

    afterAll(async () => {
      await reader?.stop();
      // The slot would hold the cluster's WAL for ever: it goes whatever happened above.
      await waitUntil('the slot to be released', async () => {
        const [row] = await sql<[{ active: boolean }?]>`select active from pg_replication_slots where slot_name = ${slot}`;
        if (row === undefined) return true;
        if (row.active) return false;
        await sql`select pg_drop_replication_slot(${slot})`;
        return true;
      });
    });

    it('deletes nothing, and warns, while no connector reads the slot', async () => {
      await sql`delete from outbox`;
      const old = await write(DAY_MS);
      const logger = recordingLogger();
      const pruner = new OutboxPruner({ sql, slot, keepMs: 0, graceMs: 0, logger });
      expect(await pruner.run()).toEqual({ slot: 'inactive', deleted: 0 });
      expect(await outboxIds()).toEqual([old]);
      expect(logger.warnings).toEqual([expect.stringMatching(/no connector is reading/)]);
    });

    it('deletes the rows written before a position the slot has confirmed, and only those', async () => {
      await sql`delete from outbox`;
      reader = await SlotReader.start(slot);
      const pruner = new OutboxPruner({ sql, slot, keepMs: 0, graceMs: 0, logger: quiet });
      const first = await write();

      // The first run takes a marker after `first`; the slot has confirmed nothing of it yet.
      expect(await pruner.run()).toEqual({ slot: 'active', deleted: 0 });
      await nextMillisecond();
      const afterFirstMarker = await positionPastMarkers();
      const second = await write();
      // Confirmed up to the first marker, not to `second`.
      await reader.confirm(afterFirstMarker);
      const run = await pruner.run();
      expect(run).toMatchObject({ slot: 'active', deleted: 1, cutoff: expect.any(Date) });
      expect(await outboxIds()).toEqual([second]);
      expect(await outboxIds()).not.toContain(first);

      // Once the slot has confirmed the marker taken after `second`, it goes too.
      await reader.confirm(await positionPastMarkers());
      expect(await pruner.run()).toMatchObject({ slot: 'active', deleted: 1 });
      expect(await outboxIds()).toEqual([]);
    });

    it('keeps confirmed rows inside the keep window or the long-transaction grace, and works off a backlog in batches', async () => {
      await sql`delete from outbox`;
      reader ??= await SlotReader.start(slot);
      const hour = 3_600_000;
      const keptByWindow = await write(30 * 60_000);
      const backlog = [];
      for (let i = 0; i < 5; i += 1) backlog.push(await write(2 * hour + i * 1_000));
      const windowed = new OutboxPruner({ sql, slot, keepMs: hour, graceMs: 0, batchSize: 2, logger: quiet });
      await windowed.run();
      await reader.confirm(await positionPastMarkers());
      expect(await windowed.run()).toMatchObject({ slot: 'active', deleted: 5 });
      expect(await outboxIds()).toEqual([keptByWindow]);

      // A grace of 10 minutes before the marker: a row 15 minutes old goes, one 5 minutes old stays.
      await sql`delete from outbox`;
      const older = await write(15 * 60_000);
      const withinGrace = await write(5 * 60_000);
      const graced = new OutboxPruner({ sql, slot, keepMs: 0, graceMs: 10 * 60_000, logger: quiet });
      await graced.run();
      await reader.confirm(await positionPastMarkers());
      expect(await graced.run()).toMatchObject({ slot: 'active', deleted: 1 });
      expect(await outboxIds()).toEqual([withinGrace]);
      expect(await outboxIds()).not.toContain(older);
    });

    it('counts no marker taken before its slot went missing: a slot created again confirms nothing of the rows before it', async () => {
      await sql`delete from outbox`;
      reader ??= await SlotReader.start(slot);
      const pruner = new OutboxPruner({ sql, slot, keepMs: 0, graceMs: 0, logger: quiet });
      const beforeSlot = await write();
      // A marker while the old slot is read, which the old slot never confirms.
      expect(await pruner.run()).toEqual({ slot: 'active', deleted: 0 });

      await reader.stop();
      reader = undefined;
      await waitUntil('the slot to be released', async () => {
        const [row] = await sql<[{ active: boolean }]>`select active from pg_replication_slots where slot_name = ${slot}`;
        return !row.active;
      });
      await sql`select pg_drop_replication_slot(${slot})`;
      expect(await pruner.run()).toEqual({ slot: 'missing', deleted: 0 });

      // The new slot confirms its creation point, past the old marker: were that marker kept,
      // `beforeSlot` would go now, though the connector is still snapshotting it.
      await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
      reader = await SlotReader.start(slot);
      expect(await pruner.run()).toEqual({ slot: 'active', deleted: 0 });
      expect(await outboxIds()).toEqual([beforeSlot]);

      // Once the new slot confirms past a marker of its own, it goes.
      await reader.confirm(await positionPastMarkers());
      expect(await pruner.run()).toMatchObject({ slot: 'active', deleted: 1 });
      expect(await outboxIds()).toEqual([]);
    });
  });
});

describe('the housekeeping jobs of a service', () => {
  it('prune and count both tables into their gauges', async () => {
    const [old, fresh] = [randomUUID(), randomUUID()];
    await sql`
      insert into processed_events (consumer, event_id, topic, processed_at)
      values ('housekeeping-jobs-test', ${old}, 'user-registration', now() - interval '9 days'),
             ('housekeeping-jobs-test', ${fresh}, 'user-registration', now())`;
    const [{ overdue }] = await sql<[{ overdue: number }]>`
      select count(*)::int as overdue from processed_events where processed_at < now() - interval '8 days'`;
    const metrics = new Registry();
    const jobs = housekeepingJobs({
      sql,
      service: { database, outbox: true, consumes: ['user-registration'] },
      settings: { intervalMs: 60_000, outboxKeepMs: 0, processedEventsKeepMs: 8 * DAY_MS },
      logger: quiet,
      metrics,
    });
    expect(jobs.map((job) => job.name)).toEqual(['outbox-pruner', 'processed-events-pruner']);
    for (const job of jobs) await job.run(new AbortController().signal);

    const gauge = async (name: string) => (await metrics.getSingleMetric(name)?.get())?.values[0]?.value;
    const [{ outbox }] = await sql<[{ outbox: number }]>`select count(*)::int as outbox from outbox`;
    const [{ processed }] = await sql<[{ processed: number }]>`select count(*)::int as processed from processed_events`;
    expect(await gauge('outbox_rows')).toBe(outbox);
    expect(processed).toBeGreaterThan(0);
    // processed_events' gauge is PostgreSQL's estimate (n_live_tup), not a count: it lags the
    // backends' unreported changes and is resampled by ANALYZE, so the job must show what
    // PostgreSQL estimates, whatever that is at the moment.
    const [, processedJob] = jobs;
    const estimate = async () =>
      (await sql<[{ rows: number }]>`select n_live_tup::int as rows from pg_stat_user_tables where relid = 'processed_events'::regclass`)[0]
        .rows;
    await vi.waitFor(
      async () => {
        await processedJob?.run(new AbortController().signal);
        expect(await gauge('processed_events_rows')).toBe(await estimate());
      },
      { timeout: 20_000, interval: 1_000 },
    );
    expect(await gauge('processed_events_rows')).toBeGreaterThan(0);
    // The row older than the window is gone, the fresh one kept, and the deletions counted.
    const left = await sql<{ eventId: string }[]>`
      select event_id from processed_events where consumer = 'housekeeping-jobs-test' and event_id in ${sql([old, fresh])}`;
    expect(left.map((row) => row.eventId)).toEqual([fresh]);
    const deleted = (await metrics.getSingleMetric('housekeeping_deleted_rows_total')?.get())?.values.find(
      (value) => value.labels['table'] === 'processed_events',
    )?.value;
    expect(deleted).toBe(overdue);
  });
});
