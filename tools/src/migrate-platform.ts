// Applies the platform migrations (outbox, processed events) to the databases of the
// services that produce or consume events, each as its own role. `make up` runs it before the services start, so that
// the outbox connectors stream from a table that exists.
import { migrateServiceDatabases } from '@shop/kit';

for (const { database, applied } of await migrateServiceDatabases()) {
  console.log(`${database}: ${applied.length ? `applied ${applied.join(', ')}` : 'platform schema up to date'}`);
}
