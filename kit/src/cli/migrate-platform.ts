// Applies the platform migrations (outbox, processed events) to the four service
// databases, each as its own role. `make up` runs it before the services start, so that
// the outbox connectors stream from a table that exists.
import { connectDatabase } from '../db/connect.ts';
import { migratePlatform } from '../db/migrate.ts';
import { requireEnv } from '../config.ts';

const serviceDatabases = ['users', 'products', 'orders', 'payments'] as const;

for (const database of serviceDatabases) {
  const sql = connectDatabase({
    host: requireEnv('PG_HOST'),
    port: Number(requireEnv('PG_PORT')),
    database,
    username: database,
    password: requireEnv(`${database.toUpperCase()}_DB_PASSWORD`),
    max: 1,
  });
  try {
    const { applied } = await migratePlatform(sql);
    console.log(`${database}: ${applied.length ? `applied ${applied.join(', ')}` : 'platform schema up to date'}`);
  } finally {
    await sql.end();
  }
}
