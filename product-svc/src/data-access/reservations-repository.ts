import { outboxInsert, type OutboxRow, type Transaction } from '@shop/kit';
import type { ReservationStatus } from '../domain/inventory.ts';
import type { ProductRow } from '../domain/products.ts';

export async function reservationStatus(tx: Transaction, orderId: string): Promise<ReservationStatus | undefined> {
  const [row] = await tx<[{ status: ReservationStatus }?]>`select status from reservations where order_id = ${orderId} for update`;
  return row?.status;
}

/**
 * A reservation, its items and, when given, the outbox row that announces it: one statement
 * (data-modifying WITH clauses), one round trip instead of three.
 */
export async function insertReservation(
  tx: Transaction,
  orderId: string,
  status: ReservationStatus,
  items: { productId: string; quantity: number }[] = [],
  announcement?: OutboxRow,
): Promise<void> {
  const lines = items.map((item) => ({ orderId, ...item }));
  await tx`
    with reservation as (insert into reservations ${tx({ orderId, status }, 'orderId', 'status')})
    ${lines.length > 0 ? tx`, lines as (insert into reservation_items ${tx(lines, 'orderId', 'productId', 'quantity')})` : tx``}
    ${announcement ? tx`, event as (${outboxInsert(tx, announcement)})` : tx``}
    select 1`;
}

export async function setReservationStatus(tx: Transaction, orderId: string, status: ReservationStatus): Promise<void> {
  await tx`update reservations set status = ${status}, updated_at = now() where order_id = ${orderId}`;
}

export function reservedItems(tx: Transaction, orderId: string): Promise<{ productId: string; quantity: number }[]> {
  return tx<{ productId: string; quantity: number }[]>`
    select product_id, quantity from reservation_items where order_id = ${orderId} order by product_id`;
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

/**
 * What reserving stock for an order reads, in one round trip: the order's reservation, if it
 * has one (locked), and the products of its lines, locked in id order so that concurrent
 * orders cannot deadlock on them (none when none exists).
 */
export async function lockReservationAndProducts(
  tx: Transaction,
  orderId: string,
  productIds: string[],
): Promise<{ status: ReservationStatus | undefined; products: Pick<ProductRow, 'id' | 'stock' | 'active'>[] }> {
  const rows = await tx<{ reservationStatus: ReservationStatus | null; id: string | null; stock: number | null; active: boolean | null }[]>`
    with reservation as (select status from reservations where order_id = ${orderId} for update),
      locked as (select id, stock, active from products where id = any(${productIds}::uuid[]) order by id for update)
    select (select status from reservation) as reservation_status, locked.*
    from (select) as one left join locked on true`;
  return {
    status: rows[0]?.reservationStatus ?? undefined,
    products: rows.flatMap(({ id, stock, active }) => (id === null ? [] : [{ id, stock: stock!, active: active! }])),
  };
}
