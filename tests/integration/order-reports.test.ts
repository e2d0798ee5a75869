// order-svc's saga reports applied as its consumer applies a batch: the batch's orders locked
// and read in one statement (lockReportedOrders), then each report's handler in turn, which
// stages its decision, then the decisions written in one statement (saveDecisions), all in
// one transaction. Against the real PostgreSQL (a scratch database with order-svc's tables,
// which the running order-svc never sees) and the real registry. Each order must become what
// one report at a time makes it, with the same events, also when the batch reports one order
// twice; and the batch must read its orders once and write them once, where one report at a
// time reads and writes each.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  EventCodec,
  migrate,
  migratePlatform,
  type ConsumedEvent,
  type EventHandler,
  type EventsByTopic,
  type EventTopic,
  type Sql,
} from '@shop/kit';
import { lockReportedOrders, saveDecisions } from '../../order-svc/src/domain/orders.ts';
import { orderEventHandlers } from '../../order-svc/src/events/handlers.ts';
import { connectAsSuperuser, stackEndpoints } from '../harness/stack.ts';

const database = 'order_reports_test';
const handlers = orderEventHandlers(new EventCodec(stackEndpoints().registryUrl));

let sql: Sql;
/** pg_stat_statements lives in the cluster; it is read from the postgres database. */
let stats: Sql;

beforeAll(async () => {
  stats = connectAsSuperuser('postgres', 1);
  await stats.unsafe(`drop database if exists ${database} with (force)`);
  await stats.unsafe(`create database ${database}`);
  await stats`create extension if not exists pg_stat_statements`;
  sql = connectAsSuperuser(database, 2);
  await sql`create publication outbox with (publish = 'insert')`;
  await migratePlatform(sql);
  await migrate(sql, fileURLToPath(new URL('../../order-svc/migrations/', import.meta.url)), 'service_migrations');
});

afterAll(async () => {
  await sql?.end();
  await stats?.unsafe(`drop database if exists ${database} with (force)`);
  await stats?.end();
});

type ReportTopic = 'payment-success' | 'payment-failure' | 'inventory-reserved' | 'inventory-rejected';

async function pendingOrder(): Promise<string> {
  const id = randomUUID();
  await sql`insert into orders ${sql({ id, userId: randomUUID(), status: 'PENDING', totalCents: 500, currency: 'EUR', paymentToken: 'tok_ok' })}`;
  await sql`insert into order_items ${sql({ orderId: id, productId: randomUUID(), quantity: 1, unitPriceCents: 500 })}`;
  return id;
}

/** A report as the consumer hands it to a handler: decoded, with a fresh event id. */
function report(topic: ReportTopic, orderId: string): ConsumedEvent<EventTopic> {
  const payment = { paymentId: randomUUID(), orderId, userId: randomUUID(), amountCents: 500, currency: 'EUR', processedAt: Date.now() };
  const values: { [T in ReportTopic]: EventsByTopic[T] } = {
    'payment-success': { ...payment, gatewayChargeId: 'ch_test' },
    'payment-failure': { ...payment, reason: 'CARD_DECLINED', detail: 'declined by the test' },
    'inventory-reserved': { orderId, items: [], reservedAt: Date.now() },
    'inventory-rejected': { orderId, shortages: [], rejectedAt: Date.now() },
  };
  return { id: randomUUID(), topic, key: orderId, value: values[topic], partition: 0, offset: '0', timestamp: Date.now() };
}

/** As the consumer applies a batch: the locker, then each handler in turn, then the finisher, in one transaction. */
async function applyAsBatch(events: ConsumedEvent<EventTopic>[]): Promise<void> {
  await sql.begin(async (tx) => {
    await lockReportedOrders(tx, events);
    for (const event of events) await (handlers[event.topic] as EventHandler<EventTopic>)(tx, event);
    await saveDecisions(tx);
  });
}

/** As the consumer applies a batch of one (no locker: its handler locks the order itself). */
async function applyOneByOne(events: ConsumedEvent<EventTopic>[]): Promise<void> {
  for (const event of events) {
    await sql.begin(async (tx) => {
      await (handlers[event.topic] as EventHandler<EventTopic>)(tx, event);
      await saveDecisions(tx);
    });
  }
}

/** The same reports of four new orders, whichever way they are applied; one was paid before. */
async function scenario() {
  const [confirmed, declined, outOfStock, paid] = [await pendingOrder(), await pendingOrder(), await pendingOrder(), await pendingOrder()];
  await applyOneByOne([report('payment-success', confirmed)]);
  const events = [
    report('inventory-reserved', confirmed),
    report('inventory-reserved', declined),
    report('inventory-rejected', outOfStock),
    // Reported twice in the batch: this report must see the reservation above.
    report('payment-failure', declined),
    report('payment-success', paid),
    // Late, on an order the batch has just cancelled: kept, and nothing more.
    report('payment-success', outOfStock),
  ];
  return { orders: [confirmed, declined, outOfStock, paid], events };
}

/** Each order's saga state and the events its changes wrote, in order. */
async function outcomes(orderIds: string[]) {
  return Promise.all(
    orderIds.map(async (id) => {
      const [order] = await sql`
        select status, cancel_reason, payment_outcome, inventory_outcome, updated_at > created_at as updated
        from orders where id = ${id}`;
      const events = await sql<{ type: string }[]>`select type from outbox where aggregateid = ${id} order by created_at, id`;
      return { ...order, events: events.map((row) => row.type) };
    }),
  );
}

/** Calls, in the scratch database, of statements whose text matches `pattern` (SQL `like`). */
async function calls(pattern: string): Promise<number> {
  const [row] = await stats<{ calls: string | null }[]>`
    select sum(s.calls) as calls from pg_stat_statements s join pg_database d on d.oid = s.dbid
    where d.datname = ${database} and s.query like ${pattern}`;
  return Number(row?.calls ?? 0);
}
const orderReads = () => calls('%for update of o%');
const orderWrites = () => calls('%update orders%');

it('a batch of reports leaves each order as one report at a time does, with the same events', async () => {
  const batched = await scenario();
  await applyAsBatch(batched.events);
  const oneByOne = await scenario();
  await applyOneByOne(oneByOne.events);

  const batchedOutcomes = await outcomes(batched.orders);
  expect(await outcomes(oneByOne.orders)).toEqual(batchedOutcomes);
  expect(batchedOutcomes).toMatchObject([
    { status: 'CONFIRMED', paymentOutcome: 'SUCCEEDED', inventoryOutcome: 'RESERVED', events: ['order-confirmed'] },
    {
      status: 'CANCELLED',
      cancelReason: 'PAYMENT_DECLINED',
      paymentOutcome: 'CARD_DECLINED',
      inventoryOutcome: 'RESERVED',
      events: ['order-cancelled'],
    },
    {
      status: 'CANCELLED',
      cancelReason: 'OUT_OF_STOCK',
      paymentOutcome: 'SUCCEEDED',
      inventoryOutcome: 'REJECTED',
      events: ['order-cancelled'],
    },
    { status: 'PENDING', paymentOutcome: 'SUCCEEDED', inventoryOutcome: null, events: [] },
  ]);
});

it('a batch reads its orders in one statement and writes them in one; one report at a time reads and writes one per report', async () => {
  const batched = await scenario();
  const oneByOne = await scenario();
  await stats`select pg_stat_statements_reset(0, oid, 0) from pg_database where datname = ${database}`;
  await applyAsBatch(batched.events);
  expect(await orderReads()).toBe(1);
  expect(await orderWrites()).toBe(1);
  await applyOneByOne(oneByOne.events);
  expect(await orderReads()).toBe(1 + oneByOne.events.length);
  expect(await orderWrites()).toBe(1 + oneByOne.events.length);
});

it('a report of an order this service does not have fails the batch, so the consumer applies it alone', async () => {
  const known = await pendingOrder();
  const events = [report('payment-success', known), report('payment-success', randomUUID())];
  await expect(applyAsBatch(events)).rejects.toThrow(/does not exist here/);
  expect((await outcomes([known]))[0]).toMatchObject({ status: 'PENDING', paymentOutcome: null, events: [] });
  await applyOneByOne([events[0]!]);
  expect((await outcomes([known]))[0]).toMatchObject({ status: 'PENDING', paymentOutcome: 'SUCCEEDED', events: [] });
});
