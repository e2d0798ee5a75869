import {
  lockAggregate,
  publishAllWith,
  publishWith,
  type BatchFinisher,
  type BatchLocker,
  type EventCodec,
  type OrderCancelled,
  type OrderPlaced,
  type Shortage,
  type Transaction,
} from '@shop/kit';
import { lockReservation, lockStockOfOrders, saveStagedReservations, stageReservation } from '../data-access/reservations-repository.ts';
import { inventoryRejected, inventoryReserved } from './events.ts';
import { moveStock } from './stock.ts';

/**
 * An order's hold on stock, decided once: RESERVED (then RELEASED when it is cancelled) or
 * REJECTED; CANCELLED_EARLY when the cancellation arrived before the order, which then takes nothing.
 */
export type ReservationStatus = 'RESERVED' | 'REJECTED' | 'RELEASED' | 'CANCELLED_EARLY';

/**
 * order-placed: take the stock of every line, or of none. The order's products are locked
 * (in id order) for the check and the update, so concurrent orders for the last units are
 * decided one after the other and stock never goes below zero (a CHECK constraint backs that).
 * The decision is staged, and written with the batch's others by saveReservations.
 */
export async function reserveStock(tx: Transaction, codec: EventCodec, order: OrderPlaced): Promise<void> {
  await lockAggregate(tx, order.orderId);
  const lines = orderLines(order.items);
  const { status, products, now } = await lockReservation(
    tx,
    order.orderId,
    lines.map((line) => line.productId),
  );
  if (status) return; // decided before, or cancelled before it arrived
  const stockOf = new Map(products.map((p) => [p.id, p]));
  const shortages: Shortage[] = [];
  for (const line of lines) {
    const product = stockOf.get(line.productId);
    const available = product?.active ? product.stock : 0;
    if (available < line.quantity) shortages.push({ productId: line.productId, requested: line.quantity, available });
  }
  if (shortages.length > 0) {
    await publishWith(codec, inventoryRejected(order.orderId, shortages), async (row) =>
      stageReservation(tx, order.orderId, 'REJECTED', {}, [row]),
    );
    return;
  }
  // The products are locked, so their new stock is worked out here, from what was read.
  const moved = moveStock(
    products,
    lines.map((line) => ({ productId: line.productId, delta: -line.quantity })),
    now,
  );
  const items = lines.map(({ productId, quantity }) => ({ productId, quantity }));
  await publishAllWith(codec, [...moved.events, inventoryReserved(order.orderId, items)], async (rows) =>
    stageReservation(tx, order.orderId, 'RESERVED', { items, moved: moved.products }, rows),
  );
}

/**
 * An order's lines as stock moves: one per product, in id order. order-svc sends each product
 * once and its ids in lower case, but the event's schema allows either; a product named twice
 * would be checked against its stock line by line (each fits, the sum does not) and stored
 * twice, and an id in capitals would not find its product (PostgreSQL answers lower case).
 */
export function orderLines(items: readonly { productId: string; quantity: number }[]): { productId: string; quantity: number }[] {
  const quantities = new Map<string, number>();
  for (const { productId, quantity } of items) {
    const id = productId.toLowerCase();
    quantities.set(id, (quantities.get(id) ?? 0) + quantity);
  }
  return [...quantities].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => a.productId.localeCompare(b.productId));
}

/** order-cancelled: give a reservation's stock back, once; remember a cancellation that came first. */
export async function releaseStock(tx: Transaction, codec: EventCodec, cancellation: OrderCancelled): Promise<void> {
  await lockAggregate(tx, cancellation.orderId);
  const { status, items, products, now } = await lockReservation(tx, cancellation.orderId);
  if (status === undefined) {
    stageReservation(tx, cancellation.orderId, 'CANCELLED_EARLY');
    return;
  }
  if (status !== 'RESERVED') return;
  const moved = moveStock(
    products,
    items.map((item) => ({ productId: item.productId, delta: item.quantity })),
    now,
  );
  await publishAllWith(codec, moved.events, async (rows) =>
    stageReservation(tx, cancellation.orderId, 'RELEASED', { moved: moved.products }, rows),
  );
}

/**
 * Before a batch of order events: the reservations of its orders and the products they take
 * or give back, locked and read in one statement, in id order, so that batches of different
 * partitions wait for each other in turn instead of deadlocking on two popular products taken
 * in opposite orders; the handlers then decide from what was read, without a round trip each.
 */
export const lockStockOfBatch: BatchLocker = async (tx, events) => {
  // A batch also holds the user-updated events the kit applies (account standings).
  const orderEvents = events.filter((event) => event.topic === 'order-placed' || event.topic === 'order-cancelled');
  if (orderEvents.length === 0) return;
  const orders = orderEvents.map((event) => event.value as OrderPlaced | OrderCancelled);
  const ordered = orderEvents.flatMap((event) => (event.topic === 'order-placed' ? (event.value as OrderPlaced).items : []));
  await lockStockOfOrders(
    tx,
    orders.map((order) => order.orderId),
    // As reserveStock names them (orderLines), so that it finds them among those read here.
    ordered.map((item) => item.productId.toLowerCase()),
  );
};

/** Writes, last in a consumed batch's transaction, the reservations and stock moves its events staged: one statement for the batch. */
export const saveReservations: BatchFinisher = saveStagedReservations;
