import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';
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
 */
export async function migrate(sql: Sql, directory: string, table: string): Promise<MigrationResult> {
  const postgrator = new Postgrator({
    migrationPattern: `${directory}/*.sql`,
    driver: 'pg',
    schemaTable: table,
    execQuery: async (query: string) => ({ rows: await sql.unsafe(query) }),
  });
  const applied = await postgrator.migrate();
  return { table, applied: applied.map((m) => basename(m.filename)) };
}

export const platformMigrations = fileURLToPath(new URL('./platform-migrations', import.meta.url));

export function migratePlatform(sql: Sql): Promise<MigrationResult> {
  return migrate(sql, platformMigrations, 'platform_migrations');
}
