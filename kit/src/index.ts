export { connectDatabase, type DatabaseSettings, type Sql, type Transaction } from './db/connect.ts';
export { migrate, migratePlatform, platformMigrations, type MigrationResult } from './db/migrate.ts';
export { migrateServiceDatabases, serviceDatabases, type ServiceDatabase } from './db/platform.ts';
export { requireEnv } from './config.ts';
