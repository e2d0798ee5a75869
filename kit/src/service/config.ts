import { Type, type Static } from 'typebox';
import { serviceUrl, type Service } from '../../../services.ts';
import { loadConfig, Port } from '../config.ts';
import type { DatabaseSettings } from '../db/connect.ts';
import type { ConsumerSettings } from '../consumer/consumer.ts';
import type { HousekeepingSettings } from '../db/housekeeping.ts';
import type { TracingSettings } from '../tracing/tracing.ts';

/** Variables every service reads, with the native stack's defaults. */
export const CommonEnvironment = Type.Object({
  HTTP_HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to listen on (0.0.0.0 in containers)' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  PG_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  PG_PORT: Port(5433),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  KAFKA_BROKERS: Type.String({ minLength: 1, default: '127.0.0.1:9092', description: 'Comma-separated host:port list' }),
  REGISTRY_URL: Type.String({ format: 'uri', default: 'http://127.0.0.1:8081/apis/ccompat/v7' }),
  CONSUMER_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 5 }),
  CONSUMER_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 200 }),
  CONSUMER_RETRY_MAX_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  // A fetch's batches share a transaction only if they start at once: at 3, order-svc's then
  // 21 partitions took up to seven transactions one after the other per fetch (bench README).
  // order-svc now reads 57 (connect/topics.conf); idle workers cost nothing.
  CONSUMER_PARTITIONS_CONCURRENTLY: Type.Integer({
    minimum: 1,
    default: 96,
    description: 'Partitions processed at once; best at least the partitions the service reads, so that a fetch is one transaction',
  }),
  CONSUMER_BATCH_SIZE: Type.Integer({
    minimum: 1,
    default: 100,
    description: 'The most messages of one partition applied in one transaction (1: a transaction per message)',
  }),
  CONSUMER_COMMIT_INTERVAL_MS: Type.Integer({
    minimum: 0,
    default: 1_000,
    description: 'The longest applied messages wait before their offsets are committed (0: after every fetched batch)',
  }),
  // Unset, kafkajs's own defaults apply (1 byte, 5000 ms).
  CONSUMER_FETCH_MIN_BYTES: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'The broker answers a fetch once it has this many bytes, or after CONSUMER_FETCH_MAX_WAIT_MS',
    }),
  ),
  CONSUMER_FETCH_MAX_WAIT_MS: Type.Optional(
    Type.Integer({ minimum: 0, description: 'The longest the broker holds a fetch waiting for CONSUMER_FETCH_MIN_BYTES' }),
  ),
  CONSUMER_FETCH_FILL_WAIT_MS: Type.Integer({
    minimum: 0,
    default: 50,
    description: 'After a fetch that brought records, how long the next may wait to fill (0: answered at the first record)',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 1_000, default: 20_000 }),
  ZIPKIN_URL: Type.Optional(
    Type.String({ format: 'uri', description: "Zipkin's base URL, where spans are sent; tracing is off without it" }),
  ),
  TRACING_SAMPLE_RATIO: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 1,
    description: 'The share of new traces recorded (0: tracing off); a trace continued from another service follows its choice',
  }),
  HOUSEKEEPING_INTERVAL_MS: Type.Integer({
    minimum: 1_000,
    default: 60_000,
    description: 'Pause between two runs of each pruning job (outbox, processed_events)',
  }),
  OUTBOX_KEEP_MS: Type.Integer({
    minimum: 0,
    default: 10 * 60_000,
    description: 'Outbox rows stay at least this long, and after that until the connector has confirmed them',
  }),
  PROCESSED_EVENTS_KEEP_MS: Type.Integer({
    minimum: 1,
    default: 8 * 24 * 3_600_000,
    description:
      "How long a consumer remembers an applied event id: longer than any redelivery can be late (the saga's topics keep a record at most 7.5 days: 7 days' retention of 12-hour segments; a record of the compacted replica topics read again changes nothing)",
  }),
});

export interface ServiceConfig {
  http: { host: string; port: number };
  logLevel: Static<typeof CommonEnvironment>['LOG_LEVEL'];
  database: DatabaseSettings;
  kafkaBrokers: string[];
  registryUrl: string;
  userServiceUrl: string;
  consumer: ConsumerSettings;
  housekeeping: HousekeepingSettings;
  shutdownTimeoutMs: number;
  tracing: TracingSettings;
}

/**
 * A service's configuration: the common variables plus, by the manifest's rules, its own port
 * (`USER_SVC_PORT`...) and database credentials (`USERS_DB_PASSWORD`; name and role default to
 * the database's name). user-svc's URL follows its port unless `USER_SVC_URL` says otherwise.
 */
export function loadServiceConfig(service: Service, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const variables = service.databaseVariables;
  const own = Type.Object({
    [service.portVariable]: Port(service.port),
    [variables.name]: Type.String({ minLength: 1, default: service.database }),
    [variables.user]: Type.String({ minLength: 1, default: service.database }),
    [variables.password]: Type.String({ minLength: 1 }),
  });
  const common = loadConfig(CommonEnvironment, env);
  const values = loadConfig(own, env) as Record<string, string | number>;
  return {
    http: { host: common.HTTP_HOST, port: Number(values[service.portVariable]) },
    logLevel: common.LOG_LEVEL,
    database: {
      host: common.PG_HOST,
      port: common.PG_PORT,
      database: String(values[variables.name]),
      username: String(values[variables.user]),
      password: String(values[variables.password]),
      max: common.DB_POOL_MAX,
    },
    kafkaBrokers: common.KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
    registryUrl: common.REGISTRY_URL,
    userServiceUrl: serviceUrl('user-svc', env),
    consumer: {
      maxAttempts: common.CONSUMER_MAX_ATTEMPTS,
      retryBaseMs: common.CONSUMER_RETRY_BASE_MS,
      retryMaxMs: common.CONSUMER_RETRY_MAX_MS,
      partitionsConsumedConcurrently: common.CONSUMER_PARTITIONS_CONCURRENTLY,
      batchSize: common.CONSUMER_BATCH_SIZE,
      commitIntervalMs: common.CONSUMER_COMMIT_INTERVAL_MS,
      fetchMinBytes: common.CONSUMER_FETCH_MIN_BYTES,
      fetchMaxWaitMs: common.CONSUMER_FETCH_MAX_WAIT_MS,
      fetchFillWaitMs: common.CONSUMER_FETCH_FILL_WAIT_MS,
    },
    housekeeping: {
      intervalMs: common.HOUSEKEEPING_INTERVAL_MS,
      outboxKeepMs: common.OUTBOX_KEEP_MS,
      processedEventsKeepMs: common.PROCESSED_EVENTS_KEEP_MS,
    },
    shutdownTimeoutMs: common.SHUTDOWN_TIMEOUT_MS,
    tracing: { zipkinUrl: common.ZIPKIN_URL, sampleRatio: common.TRACING_SAMPLE_RATIO },
  };
}
