// The shared service library. A service imports from here only; see README.md for the map.
export { ConfigurationError, configSchema, loadConfig, Port, requireEnv } from './config.ts';
export { connectDatabase, type DatabaseSettings, type Sql, type Transaction } from './db/connect.ts';
export { migrate, migratePlatform, platformMigrations, type MigrationResult } from './db/migrate.ts';
export { migrateServiceDatabases, serviceDatabases, type ServiceDatabase } from './db/platform.ts';
export { EventCodec } from './events/codec.ts';
export { readEventSchemas, schemasDirectory, type EventSchemaSource } from './events/schemas.ts';
export type * from './events/types.generated.ts';
export { eventTopics } from './events/types.generated.ts';
export { writeOutboxEvent, type OutboxEvent } from './outbox/write-event.ts';
export { EventConsumer, type ConsumedEvent, type ConsumerSettings, type EventHandler, type EventHandlers } from './consumer/consumer.ts';
export { DEAD_LETTER_TOPIC, deadLetterHeaderNames, deadLetterOf, type DeadLetter, type DeadLetterReason } from './consumer/dead-letter.ts';
export { backoffDelay, classifyFailure, type FailureKind } from './consumer/failures.ts';
export { createKafka, type Logger } from './kafka/client.ts';
export { createHttpApp, type HttpApp, type HttpAppOptions } from './http/app.ts';
export { authentication, jwksKeyResolver, JWKS_PATH, TOKEN_ALGORITHM, TOKEN_ISSUER, type AuthenticatedUser, type PublicKeyResolver } from './http/auth.ts';
export { HttpProblem, Problem } from './http/problem.ts';
export { CommonEnvironment, loadServiceConfig, type ServiceConfig } from './service/config.ts';
export { runService, type ServiceContext, type ServiceDefinition, type ServiceParts } from './service/run.ts';
