import {
  lockAggregate,
  publishAllWith,
  publishWith,
  type EventCodec,
  type OrderCancelled,
  type OrderPlaced,
  type BatchLocker,
  type Shortage,
  type Transaction,
} from '@shop/kit';
import {
  insertReservation,
  lockProductsOfOrders,
  lockReservationAndProducts,
  lockReservationToRelease,
  releaseReservation,
} from '../data-access/reservations-repository.ts';
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
 */
export async function reserveStock(tx: Transaction, codec: EventCodec, order: OrderPlaced): Promise<void> {
  await lockAggregate(tx, order.orderId);
  const lines = [...order.items].sort((a, b) => a.productId.localeCompare(b.productId));
  const { status, products, now } = await lockReservationAndProducts(
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
    await publishWith(codec, inventoryRejected(order.orderId, shortages), (row) =>
      insertReservation(tx, order.orderId, 'REJECTED', { announcements: [row] }),
    );
    return;
  }
  // The stock moves, the reservation and all their events in one statement: the products are
  // locked, so their new stock is worked out here, from what was just read.
  const moved = moveStock(
    products,
    lines.map((line) => ({ productId: line.productId, delta: -line.quantity })),
    now,
  );
  const items = lines.map(({ productId, quantity }) => ({ productId, quantity }));
  await publishAllWith(codec, [...moved.events, inventoryReserved(order.orderId, items)], (rows) =>
    insertReservation(tx, order.orderId, 'RESERVED', { items, moved: moved.products, announcements: rows }),
  );
}

/** order-cancelled: give a reservation's stock back, once; remember a cancellation that came first. */
export async function releaseStock(tx: Transaction, codec: EventCodec, cancellation: OrderCancelled): Promise<void> {
  await lockAggregate(tx, cancellation.orderId);
  const { status, items, products, now } = await lockReservationToRelease(tx, cancellation.orderId);
  if (status === undefined) {
    await insertReservation(tx, cancellation.orderId, 'CANCELLED_EARLY');
    return;
  }
  if (status !== 'RESERVED') return;
  const moved = moveStock(
    products,
    items.map((item) => ({ productId: item.productId, delta: item.quantity })),
    now,
  );
  await publishAllWith(codec, moved.events, (rows) => releaseReservation(tx, cancellation.orderId, moved.products, rows));
}

/**
 * Before a batch of order events: the products its reservations and releases will move,
 * locked in id order, so that batches of different partitions wait for each other in turn
 * instead of deadlocking on two popular products taken in opposite orders.
 */
export const lockStockOfBatch: BatchLocker = async (tx, events) => {
  const ordered = events.flatMap((event) => (event.topic === 'order-placed' ? (event.value as OrderPlaced).items : []));
  const cancelled = events.flatMap((event) => (event.topic === 'order-cancelled' ? [(event.value as OrderCancelled).orderId] : []));
  await lockProductsOfOrders(
    tx,
    ordered.map((item) => item.productId),
    cancelled,
  );
};
