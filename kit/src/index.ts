// The shared service library. A service imports from here only; see README.md for the map.
export { ConfigurationError, loadConfig, Port, requireEnv } from './config.ts';
export { UUID_PATTERN } from './uuid.ts';
export { CURRENCY_PATTERN, MAX_PRICE_CENTS, MIN_PRICE_CENTS } from './money.ts';
export { connectDatabase, uniqueViolation, type DatabaseSettings, type Sql, type Transaction } from './db/connect.ts';
export { migrate, migratePlatform, platformMigrations, type MigrationResult } from './db/migrate.ts';
export { migrateServiceDatabases } from './db/platform.ts';
export { lockAggregate } from './db/locks.ts';
export { PerTransaction } from './db/per-transaction.ts';
export {
  deleteInBatches,
  housekeepingJobs,
  OutboxPruner,
  outboxSlotName,
  parseLsn,
  pruneProcessedEvents,
  type HousekeepingSettings,
  type OutboxPruneResult,
  type OutboxPrunerOptions,
} from './db/housekeeping.ts';
export { EventCodec, wireSchemaId } from './events/codec.ts';
export { registryClient } from './events/registry-client.ts';
export { readEventSchemas, readSchemaHistory, schemasDirectory, type EventSchemaSource } from './events/schemas.ts';
export * from '../../schemas/catalogue.ts';
export {
  definitionModule,
  outboxDatabases,
  serviceNamed,
  services,
  serviceUrl,
  type DatabaseName,
  type Service,
  type ServiceName,
} from '../../services.ts';
export {
  outboxClause,
  outboxColumns,
  outboxEvent,
  outboxInsert,
  publishAllWith,
  publishWith,
  writeOutboxEvent,
  type OutboxEvent,
  type OutboxRow,
} from './outbox/write-event.ts';
export { StagedWrites, type Staged } from './outbox/staged-writes.ts';
export {
  applyBatch,
  EventConsumer,
  kafkaConsumerConfig,
  kafkaRunConfig,
  type BatchFinisher,
  type BatchParts,
  type BatchLocker,
  type ConsumedEvent,
  type ConsumerSettings,
  type EventFilter,
  type EventHandler,
  type EventHandlers,
} from './consumer/consumer.ts';
export { Gathering, type GatheredOutcome } from './consumer/gathering.ts';
export { DEAD_LETTER_TOPIC, deadLetterHeaderNames, deadLetterOf, type DeadLetter, type DeadLetterReason } from './consumer/dead-letter.ts';
export { backoffDelay, classifyFailure, DependencyUnavailable, type BackoffSettings, type FailureKind } from './consumer/failures.ts';
export { createKafka, headersAsText, type Logger } from './kafka/client.ts';
export { groupLag, partitionOffsets, type PartitionOffsets } from './kafka/offsets.ts';
export { createHttpApp, type HttpApp, type HttpAppOptions } from './http/app.ts';
export {
  adminAuth,
  authentication,
  bearerAuth,
  jwksKeyResolver,
  JWKS_PATH,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type AuthenticatedUser,
  type PublicKeyResolver,
} from './http/auth.ts';
export { accountStatesCheck, admitToken, rememberAccountState, type AccountCheck, type AccountStanding } from './http/accounts.ts';
export { commonProblems, defineProblems, HttpProblem, Problem, type ProblemCatalogue, type ProblemFactory } from './http/problem.ts';
export { cursorPosition, decodeCursor, encodeCursor, invalidCursor, keysetPage, pageAnswer, type KeysetPage } from './http/cursor.ts';
export { CommonEnvironment, loadServiceConfig, type ServiceConfig } from './service/config.ts';
export {
  defineService,
  loadServiceDefinition,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceParts,
} from './service/definition.ts';
export { jobs, type PeriodicJob } from './jobs/plugin.ts';
export { activeTraceId, ORDER_ID_ATTRIBUTE, tagActiveSpan } from './tracing/tracing.ts';
export { buildService, type BuildOptions } from './service/build.ts';
export { startService } from './service/start.ts';
export { buildOffline } from './service/offline.ts';
// The metric types a service's own metrics are made of, from the kit's prom-client (the one
// whose registry serves /metrics), so that a service does not depend on it separately.
export { Counter, Gauge, Registry } from 'prom-client';
