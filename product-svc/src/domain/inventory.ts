import {
  lockAggregate,
  publishWith,
  type EventCodec,
  type OrderCancelled,
  type OrderPlaced,
  type BatchLocker,
  type Shortage,
  type Transaction,
} from '@shop/kit';
import { adjustStock } from '../data-access/products-repository.ts';
import {
  insertReservation,
  lockReservationAndProducts,
  lockProductsOfOrders,
  reservationStatus,
  reservedItems,
  setReservationStatus,
} from '../data-access/reservations-repository.ts';
import { inventoryRejected, inventoryReserved } from './events.ts';
import { emitProductUpdate } from './products.ts';

/**
 * An order's hold on stock, decided once: RESERVED (then RELEASED when it is cancelled) or
 * REJECTED; CANCELLED_EARLY when the cancellation arrived before the order, which then takes nothing.
 */
export type ReservationStatus = 'RESERVED' | 'REJECTED' | 'RELEASED' | 'CANCELLED_EARLY';

/** Moves a product's stock by `delta` and publishes its new state and the one before (STOCK_CHANGED). */
async function moveStock(tx: Transaction, codec: EventCodec, productId: string, delta: number): Promise<void> {
  const { after, before } = await adjustStock(tx, productId, delta);
  await emitProductUpdate(tx, codec, after, 'STOCK_CHANGED', before);
}

/**
 * order-placed: take the stock of every line, or of none. The order's products are locked
 * (in id order) for the check and the update, so concurrent orders for the last units are
 * decided one after the other and stock never goes below zero (a CHECK constraint backs that).
 */
export async function reserveStock(tx: Transaction, codec: EventCodec, order: OrderPlaced): Promise<void> {
  await lockAggregate(tx, order.orderId);
  const lines = [...order.items].sort((a, b) => a.productId.localeCompare(b.productId));
  const { status, products } = await lockReservationAndProducts(
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
      insertReservation(tx, order.orderId, 'REJECTED', [], row),
    );
    return;
  }
  for (const line of lines) await moveStock(tx, codec, line.productId, -line.quantity);
  const items = lines.map(({ productId, quantity }) => ({ productId, quantity }));
  await publishWith(codec, inventoryReserved(order.orderId, items), (row) => insertReservation(tx, order.orderId, 'RESERVED', items, row));
}

/** order-cancelled: give a reservation's stock back, once; remember a cancellation that came first. */
export async function releaseStock(tx: Transaction, codec: EventCodec, cancellation: OrderCancelled): Promise<void> {
  await lockAggregate(tx, cancellation.orderId);
  const status = await reservationStatus(tx, cancellation.orderId);
  if (status === undefined) {
    await insertReservation(tx, cancellation.orderId, 'CANCELLED_EARLY');
    return;
  }
  if (status !== 'RESERVED') return;
  for (const item of await reservedItems(tx, cancellation.orderId)) await moveStock(tx, codec, item.productId, item.quantity);
  await setReservationStatus(tx, cancellation.orderId, 'RELEASED');
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
