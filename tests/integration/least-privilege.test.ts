// Least privilege, checked against the running stack: Debezium's role reads the outbox and
// nothing else of a service's database, a service's role reaches no other database, and a
// service refuses to start outside development with a development default password.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connectDatabase, outboxDatabases, requireEnv, services } from '@shop/kit';
import { repositoryRoot } from '../harness/stack.ts';

const run = promisify(execFile);

const connectAs = (username: string, password: string, database: string) =>
  connectDatabase({
    host: requireEnv('PG_HOST'),
    port: Number(requireEnv('PG_PORT')),
    database,
    username,
    password,
    max: 1,
  });

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** Each outbox database's most sensitive tables, which Debezium's role must not read. */
const privateTables: Record<string, string[]> = {
  users: ['users', 'signing_keys', 'processed_events'],
  products: ['products', 'reservations'],
  orders: ['orders', 'known_users', 'account_states'],
  payments: ['payments', 'cancelled_orders'],
};

describe("Debezium's role, cdc", () => {
  it.each(outboxDatabases.map((database) => [database]))('reads the outbox of %s and none of its other tables', async (database) => {
    const cdc = connectAs('cdc', requireEnv('CDC_DB_PASSWORD'), database);
    try {
      expect(await outcome(cdc`select count(*) from outbox`)).toBe('ok');
      for (const table of privateTables[database] ?? []) {
        expect(await outcome(cdc`select * from ${cdc(table)} limit 1`), `${database}.${table}`).toBe('42501'); // insufficient_privilege
      }
    } finally {
      await cdc.end();
    }
  });

  it('cannot connect to a database without an outbox', async () => {
    const withoutOutbox = services.filter((service) => !service.outbox).map((service) => service.database);
    expect(withoutOutbox.length).toBeGreaterThan(0);
    for (const database of withoutOutbox) {
      const cdc = connectAs('cdc', requireEnv('CDC_DB_PASSWORD'), database);
      expect(await outcome(cdc`select 1`), database).toBe('42501');
      await cdc.end();
    }
  });
});

describe("a service's own role", () => {
  it('cannot connect to another service’s database', async () => {
    const orders = connectAs('orders', requireEnv('ORDERS_DB_PASSWORD'), 'users');
    expect(await outcome(orders`select 1`)).toBe('42501');
    await orders.end();
  });
});

describe('development secrets outside development', () => {
  it('a service refuses to start with them (exit 78, naming the variables), and starts nothing', async () => {
    const env = { ...process.env, SHOP_ENV: 'production' };
    const started = await run(process.execPath, ['user-svc/src/main.ts'], { cwd: repositoryRoot, env, timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
    );
    expect(started.code).toBe(78);
    expect(started.stderr).toMatch(/USERS_DB_PASSWORD.*ADMIN_PASSWORD.*development default/);
  });
});
