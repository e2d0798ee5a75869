// Where the stack under test lives and how to stop or start one of its components. The
// integration tests use the running stack (native or compose, started by `make up`); see
// global-setup.ts for how it is found.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connectDatabase, requireEnv, serviceUrl, type DatabaseName, type ServiceName, type Sql } from '@shop/kit';

const run = promisify(execFile);
export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

export type StackKind = 'native' | 'docker';

/** The stack `make` chose (SHOP_STACK, exported by the Makefile). */
export const stackKind = (env: NodeJS.ProcessEnv = process.env): StackKind => (env['SHOP_STACK'] === 'docker' ? 'docker' : 'native');
export type Component = 'postgres' | 'kafka' | 'registry' | 'connect' | ServiceName;

export interface StackEndpoints {
  kafkaBrokers: string[];
  registryUrl: string;
  connectUrl: string;
  pgHost: string;
  pgPort: number;
  userService: string;
  productService: string;
  orderService: string;
  paymentService: string;
  gateway: string;
}

export function stackEndpoints(env: NodeJS.ProcessEnv = process.env): StackEndpoints {
  return {
    kafkaBrokers: requireEnv('KAFKA_BROKERS', env).split(','),
    registryUrl: requireEnv('REGISTRY_URL', env),
    connectUrl: requireEnv('CONNECT_URL', env),
    pgHost: requireEnv('PG_HOST', env),
    pgPort: Number(requireEnv('PG_PORT', env)),
    userService: serviceUrl('user-svc', env),
    productService: serviceUrl('product-svc', env),
    orderService: serviceUrl('order-svc', env),
    paymentService: serviceUrl('payment-svc', env),
    gateway: serviceUrl('gateway-sim', env),
  };
}

export type ComponentAction = 'start' | 'stop' | 'kill';

/**
 * Starts, stops or kills one component and returns when the command has finished (start
 * waits for readiness). `kill` is SIGKILL (PostgreSQL: an immediate shutdown, no checkpoint).
 */
export async function controlComponent(kind: StackKind, action: ComponentAction, component: Component): Promise<void> {
  if (kind === 'native') {
    await run(`${repositoryRoot}/stack/bin/native`, [action, component], { cwd: repositoryRoot });
    return;
  }
  const args = {
    start: ['compose', 'up', '--detach', '--wait', component],
    stop: ['compose', 'stop', component],
    kill: ['compose', 'kill', '--signal', 'SIGKILL', component],
  }[action];
  await run('docker', args, { cwd: repositoryRoot });
}

/** A pool on one of the services' databases, as the role that owns it. */
export function connectServiceDatabase(database: DatabaseName, max = 2, env: NodeJS.ProcessEnv = process.env): Sql {
  return connectDatabase({
    host: requireEnv('PG_HOST', env),
    port: Number(requireEnv('PG_PORT', env)),
    database,
    username: database,
    password: requireEnv(`${database.toUpperCase()}_DB_PASSWORD`, env),
    max,
  });
}

/** A pool on any database of the stack's PostgreSQL as the superuser (scratch databases, slots, other services' tables). */
export function connectAsSuperuser(database: string, max = 3, env: NodeJS.ProcessEnv = process.env): Sql {
  return connectDatabase({
    host: requireEnv('PG_HOST', env),
    port: Number(requireEnv('PG_PORT', env)),
    database,
    username: requireEnv('POSTGRES_USER', env),
    password: requireEnv('POSTGRES_PASSWORD', env),
    max,
  });
}

export async function isReachable(endpoints: StackEndpoints): Promise<boolean> {
  try {
    const [registry, connect] = await Promise.all([
      fetch(`${endpoints.registryUrl}/subjects`, { signal: AbortSignal.timeout(3000) }),
      fetch(`${endpoints.connectUrl}/connectors`, { signal: AbortSignal.timeout(3000) }),
    ]);
    return registry.ok && connect.ok;
  } catch {
    return false;
  }
}
