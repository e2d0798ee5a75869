import { pino } from 'pino';
import type { Static, TObject } from 'typebox';
import type { Admin } from 'kafkajs';
import { ConfigurationError, loadConfig } from '../config.ts';
import { connectDatabase, type Sql } from '../db/connect.ts';
import { migrate, migratePlatform } from '../db/migrate.ts';
import { serviceDatabases } from '../db/platform.ts';
import { EventConsumer, type EventHandlers } from '../consumer/consumer.ts';
import { EventCodec } from '../events/codec.ts';
import type { EventTopic } from '../events/types.generated.ts';
import { jwksKeyResolver, type PublicKeyResolver } from '../http/auth.ts';
import { createHttpApp, type HttpApp } from '../http/app.ts';
import { createKafka, type Logger } from '../kafka/client.ts';
import { loadServiceConfig, type ServiceConfig } from './config.ts';

/** What a service's own code gets to build its routes and handlers with. */
export interface ServiceContext<Environment = unknown> {
  config: ServiceConfig;
  /** The service's own variables, read and checked with the shared ones at start. */
  env: Environment;
  sql: Sql;
  codec: EventCodec;
  logger: Logger;
}

/** What a service adds to the shared machinery: its routes, its event handlers. */
export interface ServiceParts {
  routes(app: HttpApp): Promise<void>;
  /** Events this service consumes, by topic; its consumer group is the service's name. */
  handlers?: EventHandlers;
  /** Where token-verification keys come from; by default user-svc's JWKS. */
  resolveKey?: PublicKeyResolver;
}

export interface ServiceDefinition<Environment extends TObject> {
  name: string;
  version: string;
  description: string;
  /** The variable that sets the HTTP port, and its default (the contract's port). */
  port: { variable: string; default: number };
  database: string;
  /** The folder of the service's own versioned SQL migrations. */
  migrations: string;
  /** The topics the service writes to its outbox; their schemas are registered before it reports ready. */
  produces: readonly EventTopic[];
  /** The service's own environment variables, as a TypeBox schema with defaults. */
  environment: Environment;
  setup(context: ServiceContext<Static<Environment>>): Promise<ServiceParts>;
}

/** Kafka's answer is cached briefly, so a busy readiness probe does not become broker load. */
function kafkaCheck(admin: Admin): () => Promise<void> {
  let checkedAt = 0;
  return async () => {
    if (Date.now() - checkedAt < 5_000) return;
    await admin.connect();
    await admin.describeCluster();
    checkedAt = Date.now();
  };
}

/**
 * Starts a service: configuration, database and migrations, the HTTP app with the service's
 * routes, its consumer; and stops it in reverse on SIGTERM or SIGINT, finishing the requests
 * and the event in hand and committing offsets before the process exits.
 */
export async function runService<Environment extends TObject>(definition: ServiceDefinition<Environment>): Promise<void> {
  let config: ServiceConfig;
  let env: Static<Environment>;
  try {
    config = loadServiceConfig({ portVariable: definition.port.variable, defaultPort: definition.port.default, database: definition.database });
    env = loadConfig(definition.environment);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    process.stderr.write(`${definition.name}: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const logger = pino({ name: definition.name, level: config.logLevel, redact: ['req.headers.authorization', '*.password'] });

  const sql = connectDatabase(config.database);
  // The outbox and processed-events tables, in the databases that have an outbox.
  const hasOutbox = (serviceDatabases as readonly string[]).includes(definition.database);
  const platform = hasOutbox ? (await migratePlatform(sql)).applied : [];
  const own = await migrate(sql, definition.migrations, 'service_migrations');
  logger.info({ applied: [...platform, ...own.applied] }, 'database migrated');

  const codec = new EventCodec(config.registryUrl);
  const context: ServiceContext<Static<Environment>> = { config, env, sql, codec, logger };
  const parts = await definition.setup(context);

  const usesEvents = definition.produces.length > 0 || parts.handlers !== undefined;
  const kafka = createKafka(config.kafkaBrokers, definition.name, logger);
  const admin = kafka.admin();
  let consumer: EventConsumer | undefined;

  const app = await createHttpApp({
    service: definition.name,
    version: definition.version,
    description: definition.description,
    logger,
    resolveKey: parts.resolveKey ?? jwksKeyResolver(config.userServiceUrl),
    readiness: {
      database: async () => {
        await sql`select 1`;
      },
      // A service that neither writes nor reads events (the gateway simulator) needs neither.
      ...(usesEvents
        ? {
            registry: async () => {
              await Promise.all(definition.produces.map((topic) => codec.schemaId(topic)));
            },
            kafka: kafkaCheck(admin),
          }
        : {}),
      ...(parts.handlers ? { consumer: async () => consumer?.ready() } : {}),
    },
  });
  if (parts.handlers) {
    const { handlers } = parts;
    consumer = new EventConsumer({ group: definition.name, kafka, sql, codec, handlers, settings: config.consumer, logger, metrics: app.metrics });
  }
  await app.register(async (scope) => parts.routes(scope as HttpApp));
  await app.listen({ host: config.http.host, port: config.http.port });

  const startConsumer = async (): Promise<void> => {
    try {
      await consumer?.start();
    } catch (error) {
      logger.error({ err: error }, 'the consumer could not start; retrying in 5 s');
      setTimeout(() => void startConsumer(), 5_000).unref();
    }
  };
  void startConsumer();

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    await app.close();
    await consumer?.stop();
    await admin.disconnect();
    await sql.end({ timeout: 5 });
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}
