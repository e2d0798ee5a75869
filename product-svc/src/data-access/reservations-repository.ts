import { outboxInsert, type OutboxRow, type Transaction } from '@shop/kit';
import type { ReservationStatus } from '../domain/inventory.ts';
import type { ProductRow } from '../domain/products.ts';
import { productColumns, storeMovedStock } from './products-repository.ts';

/** Products a transaction locked and read, and its now(): what moveStock works from. */
export interface LockedProducts {
  products: ProductRow[];
  /** The transaction's now(): the updated_at its writes store. */
  now: Date;
}

/**
 * A reservation, its items, the stock they take and the outbox rows that announce it all: one
 * statement (data-modifying WITH clauses), one round trip. The moved products must be locked.
 */
export async function insertReservation(
  tx: Transaction,
  orderId: string,
  status: ReservationStatus,
  {
    items = [],
    moved = [],
    announcements = [],
  }: { items?: { productId: string; quantity: number }[]; moved?: ProductRow[]; announcements?: OutboxRow[] } = {},
): Promise<void> {
  const lines = items.map((item) => ({ orderId, ...item }));
  await tx`
    with reservation as (insert into reservations ${tx({ orderId, status }, 'orderId', 'status')})
    ${lines.length > 0 ? tx`, lines as (insert into reservation_items ${tx(lines, 'orderId', 'productId', 'quantity')})` : tx``}
    ${moved.length > 0 ? tx`, moved as (${storeMovedStock(tx, moved)})` : tx``}
    ${announcements.length > 0 ? tx`, events as (${outboxInsert(tx, announcements)})` : tx``}
    select 1`;
}

/** A reservation released: its status, the stock it gives back and the events of that, in one statement. */
export async function releaseReservation(tx: Transaction, orderId: string, moved: ProductRow[], announcements: OutboxRow[]): Promise<void> {
  await tx`
    with released as (update reservations set status = 'RELEASED', updated_at = now() where order_id = ${orderId})
    ${moved.length > 0 ? tx`, moved as (${storeMovedStock(tx, moved)})` : tx``}
    ${announcements.length > 0 ? tx`, events as (${outboxInsert(tx, announcements)})` : tx``}
    select 1`;
}

/**
 * Locks, in id order, the given products and those reserved for the given orders: what a batch
 * of order events will lock, taken up front (see the kit's BatchLocker).
 */
export async function lockProductsOfOrders(tx: Transaction, productIds: string[], reservedForOrderIds: string[]): Promise<void> {
  await tx`
    select 1 from products
    where id in (
      select unnest(${productIds}::uuid[])
      union select product_id from reservation_items where order_id = any(${reservedForOrderIds}::uuid[]))
    order by id
    for update`;
}

type LockedRow = Partial<ProductRow> & { reservationStatus: ReservationStatus | null; transactionTime: Date; quantity?: number | null };

const productOf = ({ reservationStatus: _status, transactionTime: _time, quantity: _quantity, ...product }: LockedRow) =>
  product as ProductRow;

/**
 * What reserving stock for an order reads, in one round trip: the order's reservation, if it
 * has one (locked), and the products of its lines, locked in id order so that concurrent
 * orders cannot deadlock on them (none when none exists).
 */
export async function lockReservationAndProducts(
  tx: Transaction,
  orderId: string,
  productIds: string[],
): Promise<LockedProducts & { status: ReservationStatus | undefined }> {
  const rows = await tx<LockedRow[]>`
    with reservation as (select status from reservations where order_id = ${orderId} for update),
      locked as (select ${productColumns(tx)} from products where id = any(${productIds}::uuid[]) order by id for update)
    select (select status from reservation) as reservation_status, now() as transaction_time, locked.*
    from (select) as one left join locked on true`;
  return {
    status: rows[0]?.reservationStatus ?? undefined,
    now: rows[0]!.transactionTime,
    products: rows.filter((row) => row.id != null).map(productOf),
  };
}

/**
 * What releasing an order's stock reads, in one round trip: its reservation, if it has one
 * (locked), and what it reserved, with those products locked in id order.
 */
export async function lockReservationToRelease(
  tx: Transaction,
  orderId: string,
): Promise<LockedProducts & { status: ReservationStatus | undefined; items: { productId: string; quantity: number }[] }> {
  const rows = await tx<LockedRow[]>`
    with reservation as (select status from reservations where order_id = ${orderId} for update),
      items as (select product_id, quantity from reservation_items where order_id = ${orderId}),
      locked as (
        select ${productColumns(tx)} from products where id in (select product_id from items) order by id for update)
    select (select status from reservation) as reservation_status, now() as transaction_time, locked.*, items.quantity
    from (select) as one left join (locked join items on items.product_id = locked.id) on true
    order by locked.id`;
  const reserved = rows.filter((row) => row.id != null);
  return {
    status: rows[0]?.reservationStatus ?? undefined,
    now: rows[0]!.transactionTime,
    products: reserved.map(productOf),
    items: reserved.map((row) => ({ productId: row.id!, quantity: row.quantity! })),
  };
}
