// product-svc's reservations applied as its consumer applies a batch: the batch's reservations
// and products locked and read in one statement (lockStockOfBatch), then each event's handler
// in turn, which stages its decision, then the decisions written in one statement
// (saveReservations), all in one transaction. Against the real PostgreSQL (a scratch database
// with product-svc's tables, which the running product-svc never sees) and the real registry.
// Each order and product must end as one event at a time leaves them, with the same events,
// also when orders of the batch compete for the last units of a product, when an order is
// placed twice, and when it is placed and cancelled in one batch; and the batch must read
// and write once, where one event at a time reads and writes per event.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { EventCodec, rememberAccountState, type ConsumedEvent, type EventsByTopic, type EventTopic } from '@shop/kit';
import { lockStockOfBatch, saveReservations } from '../../product-svc/src/domain/inventory.ts';
import { inventoryEventHandlers } from '../../product-svc/src/events/handlers.ts';
import { applyAsBatch, applyOneByOne, scratchServiceDatabase, type ConsumerParts } from '../harness/batches.ts';
import { stackEndpoints } from '../harness/stack.ts';

const scratch = scratchServiceDatabase('stock_reservations_test', new URL('../../product-svc/migrations/', import.meta.url));
const codec = new EventCodec(stackEndpoints().registryUrl);
const consumer: ConsumerParts = { handlers: inventoryEventHandlers(codec), lockBatch: lockStockOfBatch, finishBatch: saveReservations };

async function product(id: string, stock: number): Promise<string> {
  await scratch.sql`insert into products ${scratch.sql({ id, name: `p ${id}`, description: '', priceCents: 500, currency: 'EUR', stock })}`;
  return id;
}

type Line = [productId: string, quantity: number];

function event<T extends 'order-placed' | 'order-cancelled' | 'user-updated'>(
  topic: T,
  key: string,
  value: EventsByTopic[T],
): ConsumedEvent<EventTopic> {
  return { id: randomUUID(), topic, key, value, partition: 0, offset: '0', timestamp: Date.now() };
}

const placed = (orderId: string, lines: Line[]) =>
  event('order-placed', orderId, {
    orderId,
    userId: randomUUID(),
    items: lines.map(([productId, quantity]) => ({ productId, quantity, unitPriceCents: 500 })),
    totalCents: 500,
    currency: 'EUR',
    paymentToken: 'tok_ok',
    placedAt: Date.now(),
  });

const cancelled = (orderId: string) =>
  event('order-cancelled', orderId, { orderId, userId: randomUUID(), reason: 'CUSTOMER_CANCELLED', cancelledAt: Date.now() });

/** Two batches over fresh products and orders, whichever way they are applied; names stand for the ids. */
async function scenario() {
  const names = new Map<string, string>();
  const named = (name: string, id: string) => (names.set(id, name), id);
  // An order's lines are taken in product id order, and so are their events: ids in the same
  // order in every scenario, so that the scenarios' events compare.
  const [scarceId, plentyId] = [randomUUID(), randomUUID()].sort() as [string, string];
  const [scarce, plenty] = [named('scarce', await product(scarceId, 3)), named('plenty', await product(plentyId, 10))];
  const [first, second, third, early, placedAndCancelled] = ['first', 'second', 'third', 'early', 'placedAndCancelled'].map((name) =>
    named(name, randomUUID()),
  ) as [string, string, string, string, string];
  const batches = [
    [
      placed(first, [
        [scarce, 2],
        [plenty, 1],
      ]),
      // One unit of `scarce` is left for it: rejected.
      placed(second, [[scarce, 2]]),
      placed(third, [
        [plenty, 1],
        [scarce, 1],
      ]),
      // Placed again (another event id): decided already.
      placed(first, [[scarce, 2]]),
    ],
    [
      cancelled(first),
      cancelled(early),
      // Cancelled before it arrived: takes nothing.
      placed(early, [[plenty, 1]]),
      cancelled(second),
      placed(placedAndCancelled, [[plenty, 4]]),
      cancelled(placedAndCancelled),
      cancelled(first),
    ],
  ];
  return { names, products: [scarce, plenty], orders: [first, second, third, early, placedAndCancelled], batches };
}

type Scenario = Awaited<ReturnType<typeof scenario>>;

/** Each order's reservation, each product's stock, and the events written (decoded, ids as names), in order. */
async function outcomes({ names, products, orders }: Scenario) {
  const reservations = await scratch.sql<{ orderId: string; status: string; items: { product_id: string; quantity: number }[] | null }[]>`
    select r.order_id, r.status,
      (select json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity) order by i.product_id)
       from reservation_items i where i.order_id = r.order_id) as items
    from reservations r where r.order_id = any(${orders}::uuid[])`;
  const stock = await scratch.sql<{ id: string; stock: number; version: number }[]>`
    select id, stock, version from products where id = any(${products}::uuid[])`;
  const ids = [...products, ...orders];
  // In the order written, which is the order Debezium publishes them in: a statement's rows
  // share created_at, and this scratch outbox is only ever appended to, so ctid tells.
  const events = await scratch.sql<{ type: string; aggregateid: string; payload: Buffer }[]>`
    select type, aggregateid, payload from outbox where aggregateid = any(${ids}) order by ctid`;
  const decoded = await Promise.all(
    events.map(async ({ type, aggregateid, payload }) => {
      const value = await codec.decode(type as EventTopic, payload);
      const detail = type === 'product-update' ? { stock: (value as EventsByTopic['product-update']).stock } : {};
      return { type, about: names.get(aggregateid), ...detail };
    }),
  );
  return {
    reservations: Object.fromEntries(
      reservations.map((r) => [
        names.get(r.orderId),
        {
          status: r.status,
          items: (r.items ?? [])
            .map((item) => [names.get(item.product_id)!, item.quantity] as const)
            .sort(([a], [b]) => a.localeCompare(b)),
        },
      ]),
    ),
    stock: Object.fromEntries(stock.map((p) => [names.get(p.id), { stock: p.stock, version: p.version }])),
    events: decoded,
  };
}

it('batches of order events leave reservations and stock as one event at a time does, with the same events', async () => {
  const batched = await scenario();
  for (const batch of batched.batches) await applyAsBatch(scratch.sql, consumer, batch);
  const oneByOne = await scenario();
  for (const batch of oneByOne.batches) await applyOneByOne(scratch.sql, consumer, batch);

  const batchedOutcomes = await outcomes(batched);
  expect(await outcomes(oneByOne)).toEqual(batchedOutcomes);
  expect(batchedOutcomes.reservations).toEqual({
    first: {
      status: 'RELEASED',
      items: [
        ['plenty', 1],
        ['scarce', 2],
      ],
    },
    second: { status: 'REJECTED', items: [] },
    third: {
      status: 'RESERVED',
      items: [
        ['plenty', 1],
        ['scarce', 1],
      ],
    },
    early: { status: 'CANCELLED_EARLY', items: [] },
    placedAndCancelled: { status: 'RELEASED', items: [['plenty', 4]] },
  });
  // scarce: 3 - 2 - 1 + 2; plenty: 10 - 1 - 1 - 4 + 1 + 4. A version per move.
  expect(batchedOutcomes.stock).toEqual({ scarce: { stock: 2, version: 4 }, plenty: { stock: 9, version: 6 } });
  expect(batchedOutcomes.events.filter((e) => e.type !== 'product-update')).toEqual([
    { type: 'inventory-reserved', about: 'first' },
    { type: 'inventory-rejected', about: 'second' },
    { type: 'inventory-reserved', about: 'third' },
    { type: 'inventory-reserved', about: 'placedAndCancelled' },
  ]);
  expect(batchedOutcomes.events.filter((e) => e.about === 'scarce').map((e) => e.stock)).toEqual([1, 0, 2]);
});

const stockReads = () => scratch.calls('%from reservations where order_id = any%for update%');
const stockWrites = () => scratch.calls('%insert into reservations%');

it('a batch reads its stock in one statement and writes it in one; one event at a time reads per event and writes per decision', async () => {
  const batched = await scenario();
  const oneByOne = await scenario();
  await scratch.resetStatementCounts();
  for (const batch of batched.batches) await applyAsBatch(scratch.sql, consumer, batch);
  expect(await stockReads()).toBe(batched.batches.length);
  expect(await stockWrites()).toBe(batched.batches.length);
  await applyOneByOne(scratch.sql, consumer, oneByOne.batches.flat());
  const events = oneByOne.batches.flat().length;
  // Four of the eleven events change nothing (placed again, placed after its cancellation,
  // a rejected order cancelled, cancelled again) and write nothing; a rejection writes.
  expect(await stockReads()).toBe(batched.batches.length + events);
  expect(await stockWrites()).toBe(batched.batches.length + events - 4);
});

it("a batch that also holds user-updated events (the kit's account standings) is applied whole, in one transaction", async () => {
  const withStandings: ConsumerParts = {
    ...consumer,
    handlers: { ...consumer.handlers, 'user-updated': (tx, { value }) => rememberAccountState(tx, value) },
  };
  const productId = await product(randomUUID(), 5);
  const orderId = randomUUID();
  const userId = randomUUID();
  const account = {
    username: `u${userId.slice(0, 8)}`,
    email: 'u@example.com',
    fullName: null,
    role: 'customer' as const,
    disabled: false,
  };
  const loggedOut = event('user-updated', userId, {
    userId,
    change: 'LOGGED_OUT',
    before: { ...account, tokenGeneration: 1, version: 1 },
    after: { ...account, tokenGeneration: 2, version: 2 },
    updatedAt: Date.now(),
  });
  await scratch.resetStatementCounts();
  const applied = await applyAsBatch(scratch.sql, withStandings, [placed(orderId, [[productId, 2]]), loggedOut]);
  expect(applied.map((e) => e.topic)).toEqual(['order-placed', 'user-updated']);
  // One try: a batch that fails is rolled back and applied again part by part (its reads counted again).
  expect(await stockReads()).toBe(1);
  const [reservation] = await scratch.sql<{ status: string }[]>`select status from reservations where order_id = ${orderId}`;
  expect(reservation?.status).toBe('RESERVED');
});

it('an order naming a product twice, or in capitals, is decided on its whole quantity of that product, not dead-lettered', async () => {
  // order-svc never sends either; the event's schema allows both.
  const [scarce, plenty] = [await product(randomUUID(), 10), await product(randomUUID(), 10)];
  const [tooMuch, fits] = [randomUUID(), randomUUID()];
  await applyAsBatch(scratch.sql, consumer, [
    placed(tooMuch, [
      [scarce, 6],
      [scarce.toUpperCase(), 6],
    ]),
    placed(fits, [
      [plenty.toUpperCase(), 3],
      [plenty, 4],
    ]),
  ]);
  const reservations = await scratch.sql<{ orderId: string; status: string }[]>`
    select order_id, status from reservations where order_id = any(${[tooMuch, fits]}::uuid[])`;
  expect(Object.fromEntries(reservations.map((r) => [r.orderId, r.status]))).toEqual({ [tooMuch]: 'REJECTED', [fits]: 'RESERVED' });
  expect(await scratch.sql`select product_id, quantity from reservation_items where order_id = ${fits}`).toEqual([
    { productId: plenty, quantity: 7 },
  ]);
  const stock = await scratch.sql<
    { id: string; stock: number }[]
  >`select id, stock from products where id = any(${[scarce, plenty]}::uuid[])`;
  expect(Object.fromEntries(stock.map((p) => [p.id, p.stock]))).toEqual({ [scarce]: 10, [plenty]: 3 });
  const [rejection] = await scratch.sql<{ payload: Buffer }[]>`select payload from outbox where aggregateid = ${tooMuch}`;
  expect((await codec.decode('inventory-rejected', rejection!.payload)).shortages).toEqual([
    { productId: scarce, requested: 12, available: 10 },
  ]);
});
