// What the tests of the services' batch handling share: a scratch database with one service's
// tables, which the running service never sees, whose statements are counted; and a batch of
// events applied by the kit's consumer's own applyBatch (without Kafka), or one event at a time.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { applyBatch, migrate, migratePlatform, type BatchParts, type ConsumedEvent, type EventTopic, type Sql } from '@shop/kit';
import { connectAsSuperuser } from './stack.ts';

export interface ScratchDatabase {
  /** A pool on it, once the suite's beforeAll has run. */
  readonly sql: Sql;
  /** Calls of statements whose text matches `pattern` (SQL `like`) since the last reset. */
  calls(pattern: string): Promise<number>;
  resetStatementCounts(): Promise<void>;
}

/**
 * Registers the suite's hooks that create the database `name` with the platform tables and the
 * service's own (`migrations`, the service's migrations folder), and drop it after.
 */
export function scratchServiceDatabase(name: string, migrations: URL): ScratchDatabase {
  let sql: Sql | undefined;
  /** pg_stat_statements lives in the cluster; it is read from the postgres database. */
  let stats: Sql | undefined;
  beforeAll(async () => {
    stats = connectAsSuperuser('postgres', 1);
    await stats.unsafe(`drop database if exists ${name} with (force)`);
    await stats.unsafe(`create database ${name}`);
    await stats`create extension if not exists pg_stat_statements`;
    sql = connectAsSuperuser(name, 2);
    await sql`create publication outbox with (publish = 'insert')`;
    await migratePlatform(sql);
    await migrate(sql, fileURLToPath(migrations), 'service_migrations');
  });
  afterAll(async () => {
    await sql?.end();
    await stats?.unsafe(`drop database if exists ${name} with (force)`);
    await stats?.end();
  });
  const ready = <T>(pool: T | undefined): T => {
    if (pool === undefined) throw new Error(`the scratch database ${name} is not set up yet (beforeAll)`);
    return pool;
  };
  return {
    get sql() {
      return ready(sql);
    },
    async calls(pattern) {
      const [row] = await ready(stats)<{ calls: string | null }[]>`
        select sum(s.calls) as calls from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = ${name} and s.query like ${pattern}`;
      return Number(row?.calls ?? 0);
    },
    async resetStatementCounts() {
      await ready(stats)`select pg_stat_statements_reset(0, oid, 0) from pg_database where datname = ${name}`;
    },
  };
}

/** What a service gives its consumer (defineService's parts). */
export type ConsumerParts = Omit<BatchParts, 'group'>;

/** The consumer's name in the scratch database's processed_events. */
const GROUP = 'batch-test';

/** As the consumer applies a batch (the kit's own applyBatch), in one transaction; returns the events applied. */
export async function applyAsBatch(
  sql: Sql,
  parts: ConsumerParts,
  events: ConsumedEvent<EventTopic>[],
): Promise<ConsumedEvent<EventTopic>[]> {
  const applied = await sql.begin((tx) =>
    applyBatch(
      tx,
      { group: GROUP, ...parts },
      events.map((event) => ({ event })),
    ),
  );
  return [...applied].map(({ event }) => event);
}

/** As the consumer applies batches of one (no locker: a handler reads what it needs itself), each in its own transaction. */
export async function applyOneByOne(sql: Sql, parts: ConsumerParts, events: ConsumedEvent<EventTopic>[]): Promise<void> {
  for (const event of events) await applyAsBatch(sql, parts, [event]);
}
