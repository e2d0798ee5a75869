import type { Static, TObject } from 'typebox';
import { definitionModule, type ServiceName } from '../../../services.ts';
import type { EventsByTopic } from '../../../schemas/types.generated.ts';
import type { BatchFinisher, BatchLocker, EventFilter, EventHandler } from '../consumer/consumer.ts';
import type { Sql } from '../db/connect.ts';
import type { EventCodec } from '../events/codec.ts';
import type { HttpApp } from '../http/app.ts';
import type { AccountCheck } from '../http/accounts.ts';
import type { PublicKeyResolver } from '../http/auth.ts';
import type { ProblemCatalogue } from '../http/problem.ts';
import type { Logger } from '../kafka/client.ts';
import type { PeriodicJob } from '../jobs/plugin.ts';
import type { ServiceConfig } from './config.ts';
import type { Registry } from 'prom-client';

/** What a service's own code gets to build its routes and handlers with. */
export interface ServiceContext<Environment = unknown> {
  config: ServiceConfig;
  /** The service's own variables, read and checked with the shared ones. */
  env: Environment;
  /** The pool; it connects on first use, so building an app opens no connection. */
  sql: Sql;
  codec: EventCodec;
  logger: Logger;
  /** The app's Prometheus registry (served at /metrics), for the service's own metrics. */
  metrics: Registry;
}

/** What a service adds to the shared machinery. */
export interface ServiceParts {
  routes(app: HttpApp): Promise<void>;
  /** The consumer's handlers, by topic; the consumer group is the service's name. */
  handlers?: Partial<{ [T in keyof EventsByTopic]: EventHandler<T> }>;
  /** Locks (and may read) a batch's rows in one order before its handlers run (see BatchLocker). */
  lockBatch?: BatchLocker;
  /** Makes, last in a batch's transaction, the writes its handlers staged (see BatchFinisher). */
  finishBatch?: BatchFinisher;
  /** Events that would change nothing here, skipped before any transaction (see EventFilter). */
  filter?: EventFilter;
  /** Events of how many keys a consumed batch applies at once (see EventConsumerOptions.keysInParallel); 1 by default. */
  keysInParallel?: number;
  /** Whether a fetch's batches that share a key may share a transaction (see EventConsumerOptions.gatherSharedKeys); no by default. */
  gatherSharedKeys?: boolean;
  /** Where token-verification keys come from; by default user-svc's JWKS. */
  resolveKey?: PublicKeyResolver;
  /**
   * Whether a verified token's account may still act. By default, a service that consumes
   * user-updated reads the kit's account_states (kept from that topic); user-svc, which owns
   * the accounts, reads its own table.
   */
  checkAccount?: AccountCheck;
  /**
   * Work that needs the database, run once the migrations are applied and before the service
   * listens (user-svc loads its signing keys and ensures the admin account). Never run by
   * an app built offline.
   */
  start?(): Promise<void>;
  /** Work on a timer (retries, sweeps); runs while the service listens, stops when it closes. */
  jobs?: PeriodicJob[];
}

/**
 * A service as a value: what it is (its manifest entry, by name), its migrations, its own
 * environment variables and problem codes, and how to assemble its parts. Importing a
 * definition starts nothing; `buildService` makes an app of it, `startService` runs it.
 */
export interface ServiceDefinition<Environment extends TObject = TObject> {
  name: ServiceName;
  version: string;
  /** The folder of the service's own versioned SQL migrations. */
  migrations: URL;
  /** The service's own environment variables, as a TypeBox schema with defaults. */
  environment: Environment;
  /** The problem codes its routes answer with, besides the kit's common ones. */
  problems: ProblemCatalogue;
  /** Assembles routes and handlers. Must not do I/O: `start` is for that. */
  setup(context: ServiceContext<Static<Environment>>): ServiceParts;
}

export const defineService = <Environment extends TObject>(definition: ServiceDefinition<Environment>): ServiceDefinition<Environment> =>
  definition;

/** A service's definition, by the manifest's name (for tools and tests that take every service). */
export async function loadServiceDefinition(name: ServiceName): Promise<ServiceDefinition> {
  const module = (await import(definitionModule(name).href)) as { default?: ServiceDefinition };
  if (!module.default) throw new Error(`${definitionModule(name).pathname} has no default export (its ServiceDefinition)`);
  return module.default;
}
