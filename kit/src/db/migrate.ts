import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';
import postgres from 'postgres';
import Postgrator from 'postgrator';
import type { Sql } from './connect.ts';

export interface MigrationResult {
  table: string;
  applied: string[];
}

/**
 * Applies the versioned SQL files of `directory` (postgrator's `NNN.do.name.sql`) that the
 * database has not seen yet, recording them in `table`. Every service runs two sets:
 * the platform's (outbox, processed events) and its own.
 *
 * Two processes migrating one database at once (two instances starting together, or
 * `make up`'s platform migration and a service) would both find a migration missing and
 * both apply it. So the run holds a session-level advisory lock, keyed by the database (as
 * PostgreSQL keys every advisory lock) and `table`, on one connection reserved from the pool
 * for the whole run; every query of the run goes through that connection, so that it also
 * works with a pool of one. The second process waits, then finds nothing left to apply. If
 * the process dies, PostgreSQL ends the session and the lock with it.
 */
export async function migrate(sql: Sql, directory: string, table: string): Promise<MigrationResult> {
  const connection = await sql.reserve();
  const lockKey = `shop migrations: ${table}`;
  try {
    await connection`SELECT pg_advisory_lock(hashtextextended(${lockKey}, 0))`;
    let failure: unknown;
    try {
      return await runMigrations(connection, directory, table);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // After a failed run the connection may be gone (and the lock with its session): the
      // run's error is the one to report.
      await connection`SELECT pg_advisory_unlock(hashtextextended(${lockKey}, 0))`.catch((error: unknown) => {
        if (failure === undefined) throw error;
      });
    }
  } finally {
    connection.release();
  }
}

async function runMigrations(sql: Sql, directory: string, table: string): Promise<MigrationResult> {
  // postgrator runs a migration's script, then the insert that records it, as two queries:
  // a process killed between them would leave the migration applied but not recorded, and
  // every later start would apply it again and fail ("already exists"). So each script opens
  // a transaction that the record's insert commits. A script cannot hold what refuses a
  // transaction block (CREATE INDEX CONCURRENTLY, VACUUM): PostgreSQL says so, loudly.
  let scriptUncommitted = false;
  const postgrator = new Postgrator({
    migrationPattern: `${directory}/*.sql`,
    driver: 'pg',
    schemaTable: table,
    execSqlScript: async (script: string) => {
      await sql.unsafe('begin');
      scriptUncommitted = true;
      await sql.unsafe(script);
    },
    // postgrator reads its rows by PostgreSQL's names (column_name of information_schema):
    // give the names back the snake_case the connection's transform turned into camelCase.
    execQuery: async (query: string) => {
      if (scriptUncommitted && !/^\s*insert\s+into\b/i.test(query)) {
        throw new Error(`postgrator sent a query between a migration and its record: ${query.trim().slice(0, 80)}`);
      }
      const rows = await sql.unsafe(query);
      if (scriptUncommitted) {
        await sql.unsafe('commit');
        scriptUncommitted = false;
      }
      return { rows: rows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [postgres.fromCamel(name), value]))) };
    },
  });
  try {
    const applied = await postgrator.migrate();
    return { table, applied: applied.map((m) => basename(m.filename)) };
  } catch (error) {
    // A failed script or record: neither stays, and the connection goes back to the pool clean.
    if (scriptUncommitted) await sql.unsafe('rollback').catch(() => undefined);
    throw error;
  }
}

export const platformMigrations = fileURLToPath(new URL('./platform-migrations', import.meta.url));

export function migratePlatform(sql: Sql): Promise<MigrationResult> {
  return migrate(sql, platformMigrations, 'platform_migrations');
}
