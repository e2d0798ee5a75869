import { requireEnv } from '../config.ts';
import { connectDatabase } from './connect.ts';
import { migratePlatform } from './migrate.ts';

/** The databases that have an outbox, each owned by the role of the same name. */
export const serviceDatabases = ['users', 'products', 'orders', 'payments'] as const;
export type ServiceDatabase = (typeof serviceDatabases)[number];

/** Applies the platform migrations to every service database, connecting as its own role. */
export async function migrateServiceDatabases(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ database: ServiceDatabase; applied: string[] }[]> {
  const results = [];
  for (const database of serviceDatabases) {
    const sql = connectDatabase({
      host: requireEnv('PG_HOST', env),
      port: Number(requireEnv('PG_PORT', env)),
      database,
      username: database,
      password: requireEnv(`${database.toUpperCase()}_DB_PASSWORD`, env),
      max: 1,
    });
    try {
      const { applied } = await migratePlatform(sql);
      results.push({ database, applied });
    } finally {
      await sql.end();
    }
  }
  return results;
}
