import { outboxClause, PerTransaction, StagedWrites, type OutboxRow, type Transaction } from '@shop/kit';
import type { ReservationStatus } from '../domain/inventory.ts';
import type { ProductRow } from '../domain/products.ts';
import { productColumns, storeMovedStock } from './products-repository.ts';

export interface ReservedItem {
  productId: string;
  quantity: number;
}

/** An order's reservation as a transaction holds it, locked: none yet (no status), or its status and what it took. */
export interface LockedReservation {
  status: ReservationStatus | undefined;
  items: ReservedItem[];
}

/**
 * What a transaction locked and read (reservations, also that an order has none; products;
 * its now()), as the writes it staged since leave them. The rows stay locked until it ends,
 * so this is what the database holds plus what the transaction is about to write: a batch's
 * handlers read it here, after the batch's locker read it all in one statement.
 */
interface LockedStock {
  reservations: Map<string, LockedReservation>;
  products: Map<string, ProductRow>;
  /** The products asked for, also those that do not exist. */
  productsRead: Set<string>;
  now: Date | undefined;
}

const lockedStock = new PerTransaction<LockedStock>(() => ({
  reservations: new Map(),
  products: new Map(),
  productsRead: new Set(),
  now: undefined,
}));

type LockedRow = Partial<ProductRow> & {
  transactionTime: Date;
  reservations: [string, ReservationStatus][] | null;
  items: [string, string, number][] | null;
};

/**
 * Locks and reads, in one statement, the reservations of `orderIds` (also that an order has
 * none), what they took, and the products they took or ask for (`productIds`): the products
 * in id order, so that batches on different partitions wait for each other in turn instead of
 * deadlocking on two popular products taken in opposite orders.
 */
export async function lockStockOfOrders(tx: Transaction, orderIds: string[], productIds: string[]): Promise<void> {
  const rows = await tx<LockedRow[]>`
    with reserved as (select order_id, status from reservations where order_id = any(${orderIds}::uuid[]) order by order_id for update),
      items as (select order_id, product_id, quantity from reservation_items where order_id = any(${orderIds}::uuid[])),
      locked as (
        select ${productColumns(tx)} from products
        where id in (select unnest(${productIds}::uuid[]) union select product_id from items)
        order by id for update)
    select now() as transaction_time,
      (select json_agg(json_build_array(order_id, status)) from reserved) as reservations,
      (select json_agg(json_build_array(order_id, product_id, quantity)) from items) as items,
      locked.*
    from (select) as one left join locked on true`;
  const { transactionTime, reservations, items } = rows[0]!;
  const view = lockedStock.of(tx);
  view.now ??= transactionTime;
  const statusOf = new Map(reservations ?? []);
  const itemsOf = Map.groupBy(items ?? [], ([orderId]) => orderId);
  // What this transaction staged before stays as it is: it is what the rows are about to be.
  for (const orderId of orderIds) {
    if (view.reservations.has(orderId)) continue;
    const taken = (itemsOf.get(orderId) ?? []).map(([, productId, quantity]) => ({ productId, quantity }));
    view.reservations.set(orderId, { status: statusOf.get(orderId), items: taken });
  }
  for (const row of rows) {
    if (row.id == null || view.products.has(row.id)) continue;
    const { transactionTime: _time, reservations: _reservations, items: _items, ...product } = row;
    view.products.set(row.id, product as ProductRow);
  }
  for (const id of [...productIds, ...(items ?? []).map(([, productId]) => productId)]) view.productsRead.add(id);
}

/**
 * An order's reservation and the products it took or asks for, locked, with the transaction's
 * now() (what moveStock works from): as the transaction read them before (its batch's locker),
 * or read now in one round trip. Products that do not exist are left out.
 */
export async function lockReservation(
  tx: Transaction,
  orderId: string,
  productIds: string[] = [],
): Promise<LockedReservation & { products: ProductRow[]; now: Date }> {
  const before = lockedStock.peek(tx);
  if (!before?.reservations.has(orderId) || !productIds.every((id) => before.productsRead.has(id))) {
    await lockStockOfOrders(tx, [orderId], productIds);
  }
  const view = lockedStock.of(tx);
  const reservation = view.reservations.get(orderId)!;
  const wanted = new Set([...productIds, ...reservation.items.map((item) => item.productId)]);
  const products = [...wanted].flatMap((id) => view.products.get(id) ?? []).sort((a, b) => a.id.localeCompare(b.id));
  return { ...reservation, products, now: view.now! };
}

/** An order's reservation decided: new (with what it takes), or changed (released); with the stock it moved. */
interface ReservationChange {
  orderId: string;
  status: ReservationStatus;
  items: ReservedItem[];
  moved: ProductRow[];
  /** Whether the order had no reservation before: the row is inserted, not updated. */
  isNew: boolean;
}

const stagedReservations = new StagedWrites<ReservationChange>();

/**
 * Stages an order's reservation as decided, the stock it moves (the products as they will
 * stand, from moveStock) and the outbox rows that announce it all, for saveStagedReservations
 * to write with the transaction's others in one statement. The order's reservation and the
 * moved products must have been locked in this transaction (lockReservation); from now on it
 * answers with what was staged.
 */
export function stageReservation(
  tx: Transaction,
  orderId: string,
  status: ReservationStatus,
  { items = [], moved = [] }: { items?: ReservedItem[]; moved?: ProductRow[] } = {},
  announcements: OutboxRow[] = [],
): void {
  const view = lockedStock.peek(tx);
  const held = view?.reservations.get(orderId);
  if (!view || !held) throw new Error(`the reservation of order ${orderId}, which this transaction has not locked`);
  const unlocked = moved.find((product) => !view.products.has(product.id));
  if (unlocked) throw new Error(`the stock of product ${unlocked.id}, which this transaction has not locked`);
  for (const product of moved) view.products.set(product.id, product);
  const isNew = held.status === undefined;
  view.reservations.set(orderId, { status, items: isNew ? items : held.items });
  stagedReservations.stage(tx, { orderId, status, items, moved, isNew }, announcements);
}

/**
 * Writes what the transaction staged: new reservations and their items, changed ones, each
 * order's last; each moved product's last stock; and the outbox rows in the order they were
 * staged. One statement (data-modifying WITH clauses), whatever the number of orders.
 */
export async function saveStagedReservations(tx: Transaction): Promise<void> {
  const staged = stagedReservations.take(tx);
  if (!staged) return;
  const reservations = new Map<string, ReservationChange>();
  for (const change of staged.changes) {
    const earlier = reservations.get(change.orderId);
    // A reservation made and changed in one transaction is inserted as it ends up.
    reservations.set(change.orderId, earlier ? { ...change, items: earlier.items, isNew: earlier.isNew } : change);
  }
  const inserted = [...reservations.values()].filter((reservation) => reservation.isNew);
  const updated = [...reservations.values()].filter((reservation) => !reservation.isNew);
  const lines = inserted.flatMap(({ orderId, items }) => items.map((item) => ({ orderId, ...item })));
  const products = [...new Map(staged.changes.flatMap((change) => change.moved.map((product) => [product.id, product]))).values()];
  await tx`
    with inserted as (
        insert into reservations (order_id, status)
        select * from unnest(${inserted.map((r) => r.orderId)}::uuid[], ${inserted.map((r) => r.status)}::text[])),
      lines as (
        insert into reservation_items (order_id, product_id, quantity)
        select * from unnest(
          ${lines.map((line) => line.orderId)}::uuid[], ${lines.map((line) => line.productId)}::uuid[],
          ${lines.map((line) => line.quantity)}::integer[])),
      updated as (
        update reservations r set status = u.status, updated_at = now()
        from unnest(${updated.map((r) => r.orderId)}::uuid[], ${updated.map((r) => r.status)}::text[]) as u (order_id, status)
        where r.order_id = u.order_id),
      moved as (${storeMovedStock(tx, products)})
      ${outboxClause(tx, staged.announcements)}
    select 1`;
}
