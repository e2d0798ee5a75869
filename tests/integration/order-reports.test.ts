// order-svc's saga reports applied as its consumer applies a batch: the batch's orders locked
// and read in one statement (lockReportedOrders), then each report's handler in turn, which
// stages its decision, then the decisions written in one statement (saveDecisions), all in
// one transaction. Against the real PostgreSQL (a scratch database with order-svc's tables,
// which the running order-svc never sees) and the real registry. Each order must become what
// one report at a time makes it, with the same events, also when the batch reports one order
// twice; and the batch must read its orders once and write them once, where one report at a
// time reads and writes each.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { EventCodec, type ConsumedEvent, type EventsByTopic, type EventTopic } from '@shop/kit';
import { lockReportedOrders, saveDecisions } from '../../order-svc/src/domain/orders.ts';
import { orderEventHandlers } from '../../order-svc/src/events/handlers.ts';
import { applyAsBatch, applyOneByOne, scratchServiceDatabase, type ConsumerParts } from '../harness/batches.ts';
import { stackEndpoints } from '../harness/stack.ts';

const scratch = scratchServiceDatabase('order_reports_test', new URL('../../order-svc/migrations/', import.meta.url));
const consumer: ConsumerParts = {
  handlers: orderEventHandlers(new EventCodec(stackEndpoints().registryUrl)),
  lockBatch: lockReportedOrders,
  finishBatch: saveDecisions,
};

type ReportTopic = 'payment-success' | 'payment-failure' | 'inventory-reserved' | 'inventory-rejected';

async function pendingOrder(): Promise<string> {
  const id = randomUUID();
  await scratch.sql`insert into orders ${scratch.sql({ id, userId: randomUUID(), status: 'PENDING', totalCents: 500, currency: 'EUR', paymentToken: 'tok_ok' })}`;
  await scratch.sql`insert into order_items ${scratch.sql({ orderId: id, productId: randomUUID(), quantity: 1, unitPriceCents: 500 })}`;
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

/** The same reports of four new orders, whichever way they are applied; one was paid before. */
async function scenario() {
  const [confirmed, declined, outOfStock, paid] = [await pendingOrder(), await pendingOrder(), await pendingOrder(), await pendingOrder()];
  await applyOneByOne(scratch.sql, consumer, [report('payment-success', confirmed)]);
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
      const [order] = await scratch.sql`
        select status, cancel_reason, payment_outcome, inventory_outcome, updated_at > created_at as updated
        from orders where id = ${id}`;
      const events = await scratch.sql<{ type: string }[]>`select type from outbox where aggregateid = ${id} order by created_at, id`;
      return { ...order, events: events.map((row) => row.type) };
    }),
  );
}

const orderReads = () => scratch.calls('%for update of o%');
const orderWrites = () => scratch.calls('%update orders%');

it('a batch of reports leaves each order as one report at a time does, with the same events', async () => {
  const batched = await scenario();
  await applyAsBatch(scratch.sql, consumer, batched.events);
  const oneByOne = await scenario();
  await applyOneByOne(scratch.sql, consumer, oneByOne.events);

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
  await scratch.resetStatementCounts();
  await applyAsBatch(scratch.sql, consumer, batched.events);
  expect(await orderReads()).toBe(1);
  expect(await orderWrites()).toBe(1);
  await applyOneByOne(scratch.sql, consumer, oneByOne.events);
  expect(await orderReads()).toBe(1 + oneByOne.events.length);
  expect(await orderWrites()).toBe(1 + oneByOne.events.length);
});

it('a report of an order this service does not have fails the batch, so the consumer applies it alone', async () => {
  const known = await pendingOrder();
  const events = [report('payment-success', known), report('payment-success', randomUUID())];
  await expect(applyAsBatch(scratch.sql, consumer, events)).rejects.toThrow(/does not exist here/);
  expect((await outcomes([known]))[0]).toMatchObject({ status: 'PENDING', paymentOutcome: null, events: [] });
  await applyOneByOne(scratch.sql, consumer, [events[0]!]);
  expect((await outcomes([known]))[0]).toMatchObject({ status: 'PENDING', paymentOutcome: 'SUCCEEDED', events: [] });
});
