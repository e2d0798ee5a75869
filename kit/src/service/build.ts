import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Static, TObject } from 'typebox';
import type { Admin } from 'kafkajs';
import { serviceNamed } from '../../../services.ts';
import { loadConfig } from '../config.ts';
import { consumer } from '../consumer/plugin.ts';
import { housekeepingJobs } from '../db/housekeeping.ts';
import { database } from '../db/plugin.ts';
import { events } from '../events/plugin.ts';
import { createHttpApp, type HttpApp } from '../http/app.ts';
import { jobs } from '../jobs/plugin.ts';
import { accountStatesCheck, rememberAccountState, type AccountCheck } from '../http/accounts.ts';
import { jwksKeyResolver, type PublicKeyResolver } from '../http/auth.ts';
import type { EventHandlers } from '../consumer/consumer.ts';
import { activeTraceId } from '../tracing/tracing.ts';
import { loadServiceConfig } from './config.ts';
import type { ServiceContext, ServiceDefinition } from './definition.ts';

export interface BuildOptions {
  /** Where configuration is read from; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /**
   * Build without touching the database, Kafka or the registry: no migrations, no start
   * work, no consumer, no log lines. For `app.inject()` tests and the OpenAPI export.
   */
  offline?: boolean;
  /** Token-verification keys, instead of the service's own (tests sign their own tokens). */
  resolveKey?: PublicKeyResolver;
}

/** Kafka's answer is cached briefly, so a busy readiness probe does not become broker load. */
function kafkaCheck(admin: () => Admin): () => Promise<void> {
  let checkedAt = 0;
  return async () => {
    if (Date.now() - checkedAt < 5_000) return;
    await admin().connect();
    await admin().describeCluster();
    checkedAt = Date.now();
  };
}

/**
 * A service's Fastify app, ready to `inject()` or `listen()`: the shared HTTP machinery, the
 * database, the codec and the consumer as plugins that close with the app, and the
 * service's routes. Configuration errors throw ConfigurationError.
 */
export async function buildService<Environment extends TObject>(
  definition: ServiceDefinition<Environment>,
  options: BuildOptions = {},
): Promise<HttpApp> {
  const service = serviceNamed(definition.name);
  const env = options.env ?? process.env;
  const config = loadServiceConfig(service, env);
  const own = loadConfig(definition.environment, env);
  const logger = pino({
    name: service.name,
    level: options.offline ? 'silent' : config.logLevel,
    redact: ['req.headers.authorization', '*.password'],
    // Every line written while a traced request or event is handled names its trace.
    mixin: () => {
      const traceId = activeTraceId();
      return traceId === undefined ? {} : { traceId };
    },
  });

  const usesEvents = service.produces.length > 0 || service.consumes.length > 0;
  // The service's own key resolver (user-svc's key store) and its account check exist only
  // once its parts and its database do.
  const late: { resolveKey?: PublicKeyResolver; checkAccount?: AccountCheck } = {};

  const app = await createHttpApp({
    service: service.name,
    version: definition.version,
    description: service.description,
    logger,
    // Read when a token arrives, by then the routes (and user-svc's own key store) exist.
    resolveKey: options.resolveKey ?? ((kid, issuedAtMs) => (late.resolveKey ?? defaultResolver)(kid, issuedAtMs)),
    // Offline there is no database to read an account's standing from.
    checkAccount: options.offline ? undefined : async (user) => late.checkAccount?.(user),
    readiness: {
      database: async () => {
        await app.sql`select 1`;
      },
      // A service that neither writes nor reads events (the gateway simulator) needs neither.
      ...(usesEvents
        ? {
            registry: async () => {
              await Promise.all(service.produces.map((topic) => app.codec.schemaId(topic)));
            },
            kafka: kafkaCheck(() => app.kafkaAdmin),
          }
        : {}),
      ...(service.consumes.length > 0 ? { consumer: async () => app.consumer.ready() } : {}),
    },
  });
  const defaultResolver = jwksKeyResolver(config.userServiceUrl);

  await app.register(database, {
    settings: config.database,
    ...(options.offline ? {} : { migrations: { platform: service.platform, folder: fileURLToPath(definition.migrations) } }),
  });
  await app.register(events, { registryUrl: config.registryUrl, brokers: config.kafkaBrokers, clientId: service.name });

  const context: ServiceContext<Static<Environment>> = { config, env: own, sql: app.sql, codec: app.codec, logger, metrics: app.metrics };
  const parts = definition.setup(context);
  if (parts.resolveKey) late.resolveKey = parts.resolveKey;
  const handlers: EventHandlers = { ...parts.handlers };
  // A service that follows user-updated refuses revoked tokens and disabled accounts: the kit
  // keeps their standing in account_states, before the service's own handler (if any) runs.
  if (service.consumes.includes('user-updated')) {
    const standings = accountStatesCheck(app.sql);
    late.checkAccount = parts.checkAccount ?? standings;
    const own = parts.handlers?.['user-updated'];
    handlers['user-updated'] = async (tx, event) => {
      await rememberAccountState(tx, event.value);
      standings.forget(event.value.userId);
      await own?.(tx, event);
    };
  } else if (parts.checkAccount) {
    late.checkAccount = parts.checkAccount;
  }
  // The catalogue says who consumes what; a handler more or less is a mistake of the build.
  const handled = Object.keys(handlers);
  const missing = service.consumes.filter((topic) => !handled.includes(topic));
  const unlisted = handled.filter((topic) => !(service.consumes as string[]).includes(topic));
  if (missing.length > 0 || unlisted.length > 0) {
    throw new Error(
      `${service.name}'s handlers do not match schemas/catalogue.ts: without a handler ${missing.join(', ') || '-'}; not listed as consumed ${unlisted.join(', ') || '-'}`,
    );
  }
  await app.register(async (scope) => parts.routes(scope as HttpApp));
  if (options.offline) return app;

  if (parts.start) app.addHook('onReady', () => parts.start!());
  // The kit's own jobs keep the platform tables bounded; the service's come after them.
  const kitJobs = housekeepingJobs({ sql: app.sql, service, settings: config.housekeeping, logger: app.log, metrics: app.metrics });
  const allJobs = [...kitJobs, ...(parts.jobs ?? [])];
  if (allJobs.length > 0) await app.register(jobs, { jobs: allJobs, metrics: app.metrics });
  if (service.consumes.length > 0) {
    await app.register(consumer, {
      group: service.group,
      handlers,
      lockBatch: parts.lockBatch,
      finishBatch: parts.finishBatch,
      filter: parts.filter,
      keysInParallel: parts.keysInParallel,
      gatherSharedKeys: parts.gatherSharedKeys,
      settings: config.consumer,
      metrics: app.metrics,
    });
  }
  return app;
}
