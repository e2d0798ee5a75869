// The limit the database sets: pgbench running order-svc's placement (the same statements as
// POST /orders: one read of the customer, the products and an earlier order under the key,
// then one statement writing the order, its line and its outbox row) against a scratch copy
// of order-svc's schema, at the concurrency of order-svc's connection pool. The copy has no
// Debezium slot, so nothing it writes is published.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connectDatabase, migrate, platformMigrations, requireEnv } from '@shop/kit';
import { repositoryRoot } from '../harness/stack.ts';

const run = promisify(execFile);
const BENCH_DATABASE = 'orders_bench';
const CUSTOMERS = 100;
const PRODUCTS = 8;

// Ids are md5 digests of a number, so that the script can name them without a look-up.
const placementScript = `
\\set n random(1, ${CUSTOMERS})
\\set p random(1, ${PRODUCTS})
select (select disabled from known_users where id = md5(:n::text)::uuid) as customer_disabled,
    (select id from orders where user_id = md5(:n::text)::uuid and idempotency_key = null::text) as earlier_order_id,
    c.product_id, c.price_cents, c.currency, c.active
  from unnest(array[md5('p' || :p)::uuid]) as requested (product_id)
  left join catalog c using (product_id);
with placed as (
    insert into orders (id, user_id, status, total_cents, currency, payment_token, idempotency_key, request_hash)
    values (gen_random_uuid(), md5(:n::text)::uuid, 'PENDING', 1000, 'EUR', 'tok_ok', null, md5(random()::text))
    returning id, created_at, updated_at),
  lines as (insert into order_items (order_id, product_id, quantity, unit_price_cents) select id, md5('p' || :p)::uuid, 1, 1000 from placed),
  event as (
    insert into outbox (id, aggregatetype, aggregateid, type, payload, traceparent)
    select gen_random_uuid(), 'order', id::text, 'order-placed', decode(repeat('a5', 150), 'hex'), null from placed)
select created_at, updated_at from placed;
`;

export interface PgbenchResult {
  clients: number;
  seconds: number;
  transactionsPerSecond: number;
  latencyAverageMs: number;
}

function pgbenchBinary(): string {
  const explicit = process.env['PGBENCH'];
  if (explicit) return explicit;
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => `/usr/lib/postgresql/${v}/bin/pgbench`).find((path) => existsSync(path));
  if (!found) throw new Error('pgbench not found (apt-get install postgresql-contrib, or set PGBENCH)');
  return found;
}

/** A fresh scratch database with order-svc's schema and a few customers and products. */
async function prepareDatabase(): Promise<void> {
  const host = requireEnv('PG_HOST');
  const port = Number(requireEnv('PG_PORT'));
  const admin = connectDatabase({
    host,
    port,
    database: 'postgres',
    username: requireEnv('POSTGRES_USER'),
    password: requireEnv('POSTGRES_PASSWORD'),
    max: 1,
  });
  try {
    await admin.unsafe(`drop database if exists ${BENCH_DATABASE} with (force)`);
    await admin.unsafe(`create database ${BENCH_DATABASE} owner orders`);
  } finally {
    await admin.end();
  }
  const sql = connectDatabase({
    host,
    port,
    database: BENCH_DATABASE,
    username: 'orders',
    password: requireEnv('ORDERS_DB_PASSWORD'),
    max: 1,
  });
  try {
    await sql`create publication outbox`;
    await migrate(sql, platformMigrations, 'platform_migrations');
    await migrate(sql, fileURLToPath(new URL('../../order-svc/migrations', import.meta.url)), 'service_migrations');
    await sql`insert into known_users (id, username, registered_at) select md5(n::text)::uuid, 'bench-' || n, now() from generate_series(1, ${CUSTOMERS}) n`;
    await sql`insert into catalog (product_id, name, price_cents, currency, active, version) select md5('p' || n)::uuid, 'bench ' || n, 1000, 'EUR', true, 1 from generate_series(1, ${PRODUCTS}) n`;
  } finally {
    await sql.end();
  }
}

export async function runPgbench(clients: number, seconds: number): Promise<PgbenchResult> {
  await prepareDatabase();
  const directory = `${repositoryRoot}/.stack/bench`;
  mkdirSync(directory, { recursive: true });
  writeFileSync(`${directory}/place-order.sql`, placementScript);
  const { stdout } = await run(
    pgbenchBinary(),
    [
      '--no-vacuum',
      '--protocol=prepared',
      `--client=${clients}`,
      '--jobs=2',
      `--time=${seconds}`,
      `--file=${directory}/place-order.sql`,
      `--host=${requireEnv('PG_HOST')}`,
      `--port=${requireEnv('PG_PORT')}`,
      '--username=orders',
      BENCH_DATABASE,
    ],
    { env: { ...process.env, PGPASSWORD: requireEnv('ORDERS_DB_PASSWORD') } },
  );
  const tps = /tps = ([\d.]+)/.exec(stdout)?.[1];
  const latency = /latency average = ([\d.]+) ms/.exec(stdout)?.[1];
  if (!tps || !latency) throw new Error(`unexpected pgbench output:\n${stdout}`);
  return { clients, seconds, transactionsPerSecond: Number(tps), latencyAverageMs: Number(latency) };
}
