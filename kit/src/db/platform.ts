import { services } from '../../../services.ts';
import { loadServiceConfig } from '../service/config.ts';
import { connectDatabase } from './connect.ts';
import { migratePlatform } from './migrate.ts';

/**
 * Applies the platform migrations (outbox, processed events) to every database whose service
 * produces or consumes events, connecting as its own role, so that a connector can stream a
 * service's outbox before that service has first started.
 */
export async function migrateServiceDatabases(env: NodeJS.ProcessEnv = process.env): Promise<{ database: string; applied: string[] }[]> {
  const results = [];
  for (const service of services.filter((candidate) => candidate.platform)) {
    const sql = connectDatabase({ ...loadServiceConfig(service, env).database, max: 1 });
    try {
      const { applied } = await migratePlatform(sql);
      results.push({ database: service.database, applied });
    } finally {
      await sql.end();
    }
  }
  return results;
}
