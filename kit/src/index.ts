export { connectDatabase, type DatabaseSettings, type Sql, type Transaction } from './db/connect.ts';
export { migrate, migratePlatform, platformMigrations, type MigrationResult } from './db/migrate.ts';
export { migrateServiceDatabases, serviceDatabases, type ServiceDatabase } from './db/platform.ts';
export { requireEnv } from './config.ts';
export { EventCodec } from './events/codec.ts';
export { readEventSchemas, schemasDirectory, type EventSchemaSource } from './events/schemas.ts';
export type * from './events/types.generated.ts';
export { eventTopics } from './events/types.generated.ts';
export { writeOutboxEvent, type OutboxEvent } from './outbox/write-event.ts';
