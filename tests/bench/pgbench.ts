// The limit the database sets: pgbench running order-svc's placement (the same statements as
// POST /orders: the two look-ups, then the transaction with the order and its line, each
// returning what was stored, and its outbox row) against a scratch copy of order-svc's
// schema, at the concurrency of order-svc's connection pool. The copy has no Debezium slot,
// so nothing it writes is published.
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
select 1 from known_users where id = md5(:n::text)::uuid;
select product_id, price_cents, currency, active from catalog where product_id = any(array[md5('p' || :p)::uuid]);
begin;
insert into orders (id, user_id, status, total_cents, currency, payment_token, idempotency_key, request_hash)
  values (gen_random_uuid(), md5(:n::text)::uuid, 'PENDING', 1000, 'EUR', 'tok_ok', null, md5(random()::text))
  returning id as order_id, user_id, status, total_cents, currency, payment_token, created_at, updated_at \\gset
insert into order_items (order_id, product_id, quantity, unit_price_cents) values (:order_id, md5('p' || :p)::uuid, 1, 1000)
  returning product_id, quantity, unit_price_cents;
insert into outbox (id, aggregatetype, aggregateid, type, payload) values (gen_random_uuid(), 'order', :order_id, 'order-placed', decode(repeat('a5', 150), 'hex'));
commit;
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
