// `make chaos`: steady order load while components are killed, frozen past their group
// session or (Kafka) killed twice in a minute, one fault at a time, then the invariants of the
// saga are checked once the system has settled. See tests/chaos/README.md for what is checked
// and how to read the report.
//
//   node tests/chaos/run.ts            (environment: CHAOS_ROUNDS, CHAOS_RATE, CHAOS_SEED)
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { eventTopics } from '@shop/kit';
import type { EventTopic } from '../../schemas/catalogue.ts';
import { adminToken, createProduct, registerCustomer, until, type Customer } from '../harness/client.ts';
import { TopicRecorder, topicEnds } from '../harness/kafka.ts';
import { connectServiceDatabase, repositoryRoot, stackEndpoints, stackKind } from '../harness/stack.ts';
import { faultPlan, injectFault, thawAll, type Fault, type FaultSettings } from './faults.ts';
import { checkInvariants, consumersCaughtUp, ordersOfRun, UNRESOLVED_PAYMENT, type Databases } from './invariants.ts';
import { OrderLoad } from './load.ts';
import { Random } from './random.ts';
import { renderReport } from './report.ts';

const settings = {
  /** Each round: every component killed once, a consumer service and Connect frozen, Kafka killed twice in a minute. */
  rounds: Number(process.env['CHAOS_ROUNDS'] ?? 1),
  ratePerSecond: Number(process.env['CHAOS_RATE'] ?? 5),
  seed: Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31)),
  customers: 40,
  // Two products sell out during a run (orders for them are then cancelled and refunded);
  // three have stock for every order, so that the saga's progress stays visible throughout.
  products: [{ stock: 60 }, { stock: 120 }, { stock: 1_000_000 }, { stock: 1_000_000 }, { stock: 1_000_000 }],
  faults: {
    calmMs: [3_000, 8_000],
    downMs: [1_000, 5_000],
    // KafkaJS 2.2's default consumer sessionTimeout; Kafka Connect 4.x's worker session.timeout.ms default.
    sessionTimeoutMs: { service: 30_000, connect: 10_000 },
    freezeMarginMs: [5_000, 15_000],
    doubleKillWithinMs: 60_000,
    recoveryTimeoutMs: 120_000,
  } satisfies FaultSettings,
  /** How long one intended order is retried under its Idempotency-Key. */
  orderRetryMs: 90_000,
  settleTimeoutMs: 300_000,
  /** Consumed topics that get a poison record (bytes that are not Avro) during the run. */
  poisonTopics: ['order-placed', 'payment-success', 'inventory-rejected', 'order-cancelled'] as const,
};

const stack = stackKind();
const endpoints = stackEndpoints();
const started = Date.now();
const log = (line: string) => console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function prepare(db: Databases) {
  const admin = await adminToken();
  const initialStock = new Map<string, number>();
  for (const [i, { stock }] of settings.products.entries()) {
    initialStock.set(await createProduct(admin, stock, 500 + 250 * i, `Chaos item ${i + 1}`), stock);
  }
  const customers: Customer[] = [];
  for (let i = 0; i < settings.customers; i++) customers.push(await registerCustomer('chaos'));
  const customerIds = customers.map((c) => c.id);
  const productIds = [...initialStock.keys()];
  // Orders are refused until order-svc has heard of a customer and a product through Kafka.
  await until(
    "order-svc to know the run's customers and products",
    async () => {
      const [users] = await db.orders<{ n: number }[]>`select count(*)::int as n from known_users where id = any(${customerIds}::uuid[])`;
      const [products] = await db.orders<
        { n: number }[]
      >`select count(*)::int as n from catalog where product_id = any(${productIds}::uuid[])`;
      return (users?.n ?? 0) + (products?.n ?? 0);
    },
    (known) => known === customerIds.length + productIds.length,
    120_000,
  );
  return { admin, initialStock, customers, customerIds, productIds };
}

/** Writes a record no consumer can decode to `topic`; its key marks it as the run's own. */
async function injectPoison(kafka: Kafka, topic: string): Promise<string> {
  const key = `chaos-poison-${randomUUID()}`;
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: [{ key, value: Buffer.from('not an Avro record'), headers: { id: randomUUID(), type: topic } }],
    });
  } finally {
    await producer.disconnect();
  }
  return key;
}

/**
 * Waits until every order of the run is final and no compensation is still owed: no charge
 * kept and no stock held for a cancelled order (also one cancelled by the order deadline),
 * no payment whose charge or refund is still unresolved, and no mail of the run unsent.
 */
async function settle(db: Databases, customerIds: string[]): Promise<number | undefined> {
  const since = Date.now();
  try {
    await until(
      'the system to settle',
      async () => {
        try {
          const orders = await ordersOfRun(db.orders, customerIds);
          const all = orders.map((o) => o.id);
          const cancelled = orders.filter((o) => o.status === 'CANCELLED').map((o) => o.id);
          const [payments] = await db.payments<{ n: number }[]>`
            select count(*)::int as n from payments where order_id = any(${all}::uuid[])
              and (status = any(${UNRESOLVED_PAYMENT}) or (status = 'SUCCEEDED' and order_id = any(${cancelled}::uuid[])))`;
          const [held] = await db.products<
            { n: number }[]
          >`select count(*)::int as n from reservations where status = 'RESERVED' and order_id = any(${cancelled}::uuid[])`;
          const [unsent] = await db.notifications<{ n: number }[]>`
            select count(*)::int as n from notifications where status = 'PENDING' and user_id = any(${customerIds}::uuid[])`;
          return orders.filter((o) => o.status === 'PENDING').length + (payments?.n ?? 0) + (held?.n ?? 0) + (unsent?.n ?? 0);
        } catch {
          return -1;
        }
      },
      (outstanding) => outstanding === 0,
      settings.settleTimeoutMs,
    );
    return Date.now() - since;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const db: Databases = {
    orders: connectServiceDatabase('orders', 2),
    products: connectServiceDatabase('products', 2),
    payments: connectServiceDatabase('payments', 2),
    notifications: connectServiceDatabase('notifications', 2),
  };
  const kafka = new Kafka({ clientId: 'chaos', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  const random = new Random(settings.seed);
  log(`seed ${settings.seed}, ${settings.rounds} round(s), ${settings.ratePerSecond} orders/s, stack ${stack}`);
  const run = await prepare(db);
  const dlqStart = await topicEnds(endpoints.kafkaBrokers, ['dlq']);

  const load = new OrderLoad(
    { ratePerSecond: settings.ratePerSecond, retryForMs: settings.orderRetryMs },
    run.customers,
    run.productIds,
    random,
  );
  const loadStartedAt = Date.now();
  load.start();
  log('load started');
  const plan = faultPlan(random, settings.rounds);
  // Poison goes in at random points of the plan, between faults.
  const poisonAt = settings.poisonTopics.map((topic) => ({ topic, before: random.int(0, plan.length - 1) }));
  const poison = new Map<string, EventTopic>();
  const faults: Fault[] = [];
  for (const [index, planned] of plan.entries()) {
    for (const { topic } of poisonAt.filter((p) => p.before === index)) {
      poison.set(await injectPoison(kafka, topic), topic);
      log(`poison record written to ${topic}`);
    }
    log(`fault ${index + 1} of ${plan.length}: ${planned.kind} ${planned.component}`);
    faults.push(await injectFault(stack, planned, settings.faults, random, db.orders, log));
  }
  await sleep(settings.faults.calmMs[1]);
  await load.stop();
  const loadStoppedAt = Date.now();
  log(`load stopped: ${load.attempts.length} orders offered, ${load.accepted.length} accepted`);

  const settleMs = await settle(db, run.customerIds);
  log(settleMs === undefined ? `not settled after ${settings.settleTimeoutMs} ms` : `settled in ${settleMs} ms`);

  // The consumers first: what they have yet to read (a poison record, a mail-worthy event)
  // would otherwise be missing from the topics' reading below.
  const admin = kafka.admin();
  await admin.connect();
  const caughtUp = await consumersCaughtUp(admin).finally(() => admin.disconnect());
  const finalOrders = await ordersOfRun(db.orders, run.customerIds);
  const orderIds = new Set(finalOrders.map((o) => o.id));
  const sagaTopics = eventTopics.filter((t) => !['user-registration', 'product-update'].includes(t));
  const sagaRecords = (await TopicRecorder.readToEnd(endpoints.kafkaBrokers, [...sagaTopics])).filter((r) => orderIds.has(r.key ?? ''));
  const deadLetters = (await TopicRecorder.readToEnd(endpoints.kafkaBrokers, ['dlq'])).filter(
    (r) => BigInt(r.offset) >= (dlqStart.get(`dlq/${r.partition}`)?.high ?? 0n),
  );
  const invariants = await checkInvariants(
    {
      attempts: load.attempts,
      customerIds: run.customerIds,
      initialStock: run.initialStock,
      adminToken: run.admin,
      poison,
      deadLetters,
      sagaRecords,
    },
    db,
  );
  invariants.push(caughtUp);
  await Promise.all(Object.values(db).map((sql: Databases[keyof Databases]) => sql.end()));

  const report = renderReport({
    settings,
    stack,
    startedAt: loadStartedAt,
    loadStoppedAt,
    attempts: load.attempts,
    faults,
    settleMs,
    outcomes: finalOrders.map((o) => (o.status === 'CANCELLED' ? `CANCELLED ${o.cancelReason}` : o.status)),
    invariants,
  });
  const directory = `${repositoryRoot}/.stack/reports`;
  mkdirSync(directory, { recursive: true });
  writeFileSync(`${directory}/chaos.md`, report);
  console.log(`\n${report}\n(report written to .stack/reports/chaos.md)`);
  const failed =
    invariants.filter((i) => !i.holds).length + faults.filter((f) => f.recoveredAt === undefined).length + (settleMs === undefined ? 1 : 0);
  return failed === 0 ? 0 : 1;
}

// A component left frozen would look like a hung stack to whoever uses it next.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    thawAll(stack);
    process.exit(code);
  });
}
process.exitCode = await main().catch((error: unknown) => {
  thawAll(stack);
  console.error('chaos run failed:', error);
  return 2;
});
