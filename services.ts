// The service manifest: every process of the shop that we write, once. The native stack
// (stack/bin/native through stack/bin/manifest.ts), the database bootstrap, the connector
// registration, the kit's service runner, the AsyncAPI and OpenAPI generators and the test
// harness all read it; tests/unit/stack-files.test.ts keeps compose.yaml in step with it.
//
// What a service produces and consumes is not written here but read from the event
// catalogue (schemas/catalogue.ts), where each topic names its producer and consumers.
// Everything else about a service follows from its entry by one rule each (see below).
import { eventCatalogue, type EventTopic } from './schemas/catalogue.ts';

interface ServiceEntry {
  /** The folder, the process, the logger and the consumer group. */
  name: string;
  /** One line for the OpenAPI document and the docs. */
  description: string;
  /** The default HTTP port; `<NAME>_PORT` overrides it (USER_SVC_PORT, GATEWAY_SIM_PORT...). */
  port: number;
  /**
   * Its own PostgreSQL database, owned by a login role of the same name whose password is
   * `<DATABASE>_DB_PASSWORD`. A database whose service produces events has an outbox, a
   * publication and a Debezium connector `<database>-outbox`.
   */
  database: string;
}

// In start order: user-svc first (the others verify tokens with its keys), the gateway
// simulator before payment-svc (which charges through it).
const entries = [
  { name: 'user-svc', description: 'Accounts, login and the JWKS that verifies access tokens', port: 3001, database: 'users' },
  { name: 'product-svc', description: 'The catalog and its stock, reserved and released for orders', port: 3002, database: 'products' },
  { name: 'order-svc', description: 'Orders, and the saga that confirms or cancels them', port: 3003, database: 'orders' },
  {
    name: 'gateway-sim',
    description: 'Simulated card processor: charges, refunds, idempotency keys, and a ledger',
    port: 3005,
    database: 'gateway',
  },
  { name: 'payment-svc', description: 'Charges and refunds orders through the payment gateway', port: 3004, database: 'payments' },
  {
    name: 'notification-svc',
    description: 'Emails customers about their account, orders and refunds',
    port: 3006,
    database: 'notifications',
  },
] as const satisfies readonly ServiceEntry[];

export type ServiceName = (typeof entries)[number]['name'];
export type DatabaseName = (typeof entries)[number]['database'];

export interface Service extends ServiceEntry {
  name: ServiceName;
  /** The topics it writes to its outbox. */
  produces: EventTopic[];
  /** The topics its consumer group reads. */
  consumes: EventTopic[];
  /** Its consumer group: the service's name. */
  group: string;
  /** The variable that overrides its port, and the one that overrides its base URL. */
  portVariable: string;
  urlVariable: string;
  /** The variables of its database: name, login role and password. */
  databaseVariables: { name: string; user: string; password: string };
  /** Whether its database has an outbox (and so a publication and a connector). */
  outbox: boolean;
  /**
   * Whether its database has the platform tables (outbox, processed_events...): it produces
   * or consumes events. A consumer that produces nothing has them too, with no connector.
   */
  platform: boolean;
}

const topics = Object.entries(eventCatalogue) as [EventTopic, (typeof eventCatalogue)[EventTopic]][];
const variablePrefix = (name: string) => name.toUpperCase().replaceAll('-', '_');

function describe(entry: ServiceEntry & { name: ServiceName }): Service {
  const produces = topics.filter(([, event]) => event.producer === entry.name).map(([topic]) => topic);
  const consumes = topics.filter(([, event]) => entry.name in event.consumers).map(([topic]) => topic);
  const db = variablePrefix(entry.database);
  return {
    ...entry,
    produces,
    consumes,
    group: entry.name,
    portVariable: `${variablePrefix(entry.name)}_PORT`,
    urlVariable: `${variablePrefix(entry.name)}_URL`,
    databaseVariables: { name: `${db}_DB_NAME`, user: `${db}_DB_USER`, password: `${db}_DB_PASSWORD` },
    outbox: produces.length > 0,
    platform: produces.length > 0 || consumes.length > 0,
  };
}

/** Every service, in start order. */
export const services: readonly Service[] = entries.map(describe);

export function serviceNamed(name: ServiceName): Service {
  const service = services.find((candidate) => candidate.name === name);
  if (!service) throw new Error(`no service ${name} in services.ts`);
  return service;
}

/**
 * A service's base URL: `<NAME>_URL` when set (containers reach each other by name),
 * otherwise loopback at its port, `<NAME>_PORT` or the default.
 */
export function serviceUrl(name: ServiceName, env: NodeJS.ProcessEnv = process.env): string {
  const service = serviceNamed(name);
  return env[service.urlVariable] ?? `http://127.0.0.1:${env[service.portVariable] ?? service.port}`;
}

/** The databases whose outbox Debezium streams, in start order. */
export const outboxDatabases: readonly string[] = services.filter((service) => service.outbox).map((service) => service.database);

/** The databases that get the platform migrations (their service produces or consumes), in start order. */
export const platformDatabases: readonly string[] = services.filter((service) => service.platform).map((service) => service.database);

/** The module whose default export is the service's definition (kit's ServiceDefinition). */
export const definitionModule = (name: ServiceName): URL => new URL(`./${name}/src/service.ts`, import.meta.url);
