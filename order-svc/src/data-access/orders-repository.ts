import { outboxInsert, type OutboxRow, type Sql, type Transaction } from '@shop/kit';
import type { CatalogEntry, KnownUser, OrderRow } from '../domain/orders.ts';

type Db = Sql | Transaction;

const columns = (sql: Db) => sql`
  id, user_id, status, cancel_reason, total_cents, currency, payment_token, payment_outcome, inventory_outcome,
  idempotency_key, request_hash, created_at, updated_at`;

/** The lines of `orders o`, as JSON: its keys are not column names, so they are spelled as TypeScript spells them. */
const items = (sql: Db) => sql`
  (select json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents) order by i.product_id)
   from order_items i where i.order_id = o.id) as items`;

export const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

export async function insertKnownUser(
  tx: Transaction,
  user: Pick<KnownUser, 'id' | 'username' | 'email' | 'fullName' | 'registeredAt'>,
): Promise<void> {
  await tx`insert into known_users ${tx(user, 'id', 'username', 'email', 'fullName', 'registeredAt')} on conflict (id) do nothing`;
}

/**
 * Stores a user's new state unless a newer version is already there. A user-updated that
 * arrives before the user's registration (they are on two topics) creates the row; the
 * registration then finds it and leaves it.
 */
export async function upsertKnownUser(tx: Transaction, user: KnownUser): Promise<void> {
  await tx`
    insert into known_users ${tx(user, 'id', 'username', 'email', 'fullName', 'disabled', 'version', 'registeredAt')}
    on conflict (id) do update set
      username = excluded.username, email = excluded.email, full_name = excluded.full_name,
      disabled = excluded.disabled, version = excluded.version
    where known_users.version < excluded.version`;
}

/**
 * Stores a product state unless a newer version is already there. `version` is that of the last
 * record applied: the stock moves CatalogFreshness skips leave it behind, with the same terms.
 */
export async function upsertCatalogEntry(tx: Transaction, entry: CatalogEntry & { name: string; version: number }): Promise<void> {
  await tx`
    insert into catalog ${tx(entry, 'productId', 'name', 'priceCents', 'currency', 'active', 'version')}
    on conflict (product_id) do update set
      name = excluded.name, price_cents = excluded.price_cents, currency = excluded.currency,
      active = excluded.active, version = excluded.version
    where catalog.version < excluded.version`;
}

/** What placing an order depends on, read together: the customer's standing, the products, an earlier order under the same key. */
export interface PlacementFacts {
  /** undefined while the customer's registration has not arrived here. */
  customer: { disabled: boolean } | undefined;
  /** The requested products this service knows of. */
  catalog: CatalogEntry[];
  /** The order the same customer already placed with this Idempotency-Key. */
  earlierOrderId: string | undefined;
}

/** Everything placing an order checks, in one round trip (a row per requested product). */
export async function placementFacts(
  sql: Db,
  userId: string,
  productIds: string[],
  idempotencyKey: string | null,
): Promise<PlacementFacts> {
  const rows = await sql<(Partial<CatalogEntry> & { customerDisabled: boolean | null; earlierOrderId: string | null })[]>`
    select
      (select disabled from known_users where id = ${userId}) as customer_disabled,
      (select id from orders where user_id = ${userId} and idempotency_key = ${idempotencyKey}::text) as earlier_order_id,
      c.product_id, c.price_cents, c.currency, c.active
    from unnest(${productIds}::uuid[]) as requested (product_id)
    left join catalog c using (product_id)`;
  const first = rows[0];
  return {
    customer: first?.customerDisabled == null ? undefined : { disabled: first.customerDisabled },
    catalog: rows.filter((row): row is typeof row & CatalogEntry => row.productId != null && row.priceCents != null),
    earlierOrderId: first?.earlierOrderId ?? undefined,
  };
}

/**
 * Writes a new PENDING order, its lines and its outbox row in one statement (atomic, so no
 * transaction and no round trips for BEGIN and COMMIT); returns the times the database gave it.
 */
export async function insertPlacedOrder(
  sql: Sql,
  order: Pick<OrderRow, 'id' | 'userId' | 'totalCents' | 'currency' | 'paymentToken' | 'idempotencyKey' | 'requestHash' | 'items'>,
  outboxRow: OutboxRow,
): Promise<Pick<OrderRow, 'createdAt' | 'updatedAt'>> {
  const orderValues = sql(
    { ...order, status: 'PENDING' },
    'id',
    'userId',
    'status',
    'totalCents',
    'currency',
    'paymentToken',
    'idempotencyKey',
    'requestHash',
  );
  const lineValues = sql(
    order.items.map((item) => ({ orderId: order.id, ...item })),
    'orderId',
    'productId',
    'quantity',
    'unitPriceCents',
  );
  const [placed] = await sql<Pick<OrderRow, 'createdAt' | 'updatedAt'>[]>`
    with placed as (insert into orders ${orderValues} returning created_at, updated_at),
      lines as (insert into order_items ${lineValues}),
      event as (${outboxInsert(sql, outboxRow)})
    select created_at, updated_at from placed`;
  return placed!;
}

export async function findOrder(sql: Db, id: string): Promise<OrderRow | undefined> {
  const [row] = await sql<OrderRow[]>`select ${columns(sql)}, ${items(sql)} from orders o where o.id = ${id}`;
  return row;
}

/** An order locked for a decision, with the transaction's time: what its update will store as `updated_at` (now()). */
export type LockedOrder = OrderRow & { lockedAt: Date };

/**
 * The orders a transaction locked and read ahead of its handlers (lockOrders), as saveSagaState
 * has left them since: lockOrder answers from here, without a round trip. The rows are locked
 * until the transaction ends, so what was read is what the database holds.
 */
const lockedAhead = new WeakMap<Transaction, Map<string, LockedOrder>>();

/** Locks and reads several orders in one statement (a consumed batch's), for lockOrder to take them from. */
export async function lockOrders(tx: Transaction, ids: string[]): Promise<void> {
  const rows = await tx<LockedOrder[]>`
    select ${columns(tx)}, ${items(tx)}, now() as locked_at from orders o
    where o.id = any(${ids}::uuid[]) order by o.id for update of o`;
  const ahead = lockedAhead.get(tx) ?? new Map<string, LockedOrder>();
  for (const row of rows) ahead.set(row.id, row);
  lockedAhead.set(tx, ahead);
}

export async function lockOrder(tx: Transaction, id: string): Promise<LockedOrder | undefined> {
  const ahead = lockedAhead.get(tx)?.get(id);
  if (ahead) return ahead;
  const [row] = await tx<LockedOrder[]>`
    select ${columns(tx)}, ${items(tx)}, now() as locked_at from orders o where o.id = ${id} for update of o`;
  return row;
}

export async function findOrderByIdempotencyKey(sql: Db, userId: string, key: string): Promise<OrderRow | undefined> {
  const [row] = await sql<
    OrderRow[]
  >`select ${columns(sql)}, ${items(sql)} from orders o where o.user_id = ${userId} and o.idempotency_key = ${key}`;
  return row;
}

/**
 * Locks up to `limit` orders still PENDING `deadlineMs` after they were placed, oldest first,
 * skipping orders another transaction holds (a report being applied, another instance's
 * check): they are decided there, or picked up by the next check. The age is measured by the
 * database's clock, the one that wrote `created_at`.
 */
export function lockOverdueOrders(tx: Transaction, deadlineMs: number, limit: number): Promise<LockedOrder[]> {
  return tx<LockedOrder[]>`
    select ${columns(tx)}, ${items(tx)}, now() as locked_at from orders o
    where o.status = 'PENDING' and o.created_at < now() - ${deadlineMs} * interval '1 millisecond'
    order by o.created_at
    limit ${limit}
    for update of o skip locked`;
}

/** A user's orders, newest first, after the order named by `before`. */
export function ordersOfUser(sql: Sql, userId: string, limit: number, before: string | undefined): Promise<OrderRow[]> {
  const position = before ? sql`and (o.created_at, o.id) < (select created_at, id from orders where id = ${before})` : sql``;
  return sql<OrderRow[]>`
    select ${columns(sql)}, ${items(sql)} from orders o
    where o.user_id = ${userId} ${position}
    order by o.created_at desc, o.id desc
    limit ${limit}`;
}

/** What the admin's listing filters by; every filter is optional. */
export interface OrderFilter {
  status?: OrderRow['status'] | undefined;
  userId?: string | undefined;
  /** Placed at or after. */
  from?: Date | undefined;
  /** Placed before. */
  to?: Date | undefined;
}

/** Every user's orders matching `filter`, newest first, after the order named by `before`. */
export function ordersMatching(sql: Sql, filter: OrderFilter, limit: number, before: string | undefined): Promise<OrderRow[]> {
  const conditions = [
    filter.status === undefined ? sql`` : sql`and o.status = ${filter.status}`,
    filter.userId === undefined ? sql`` : sql`and o.user_id = ${filter.userId}`,
    filter.from === undefined ? sql`` : sql`and o.created_at >= ${filter.from}`,
    filter.to === undefined ? sql`` : sql`and o.created_at < ${filter.to}`,
    before === undefined ? sql`` : sql`and (o.created_at, o.id) < (select created_at, id from orders where id = ${before})`,
  ];
  return sql<OrderRow[]>`
    select ${columns(sql)}, ${items(sql)} from orders o
    where true ${conditions[0]!} ${conditions[1]!} ${conditions[2]!} ${conditions[3]!} ${conditions[4]!}
    order by o.created_at desc, o.id desc
    limit ${limit}`;
}

/**
 * Stores the saga's state of an order, and the outbox row that announces it when there is one:
 * one statement (a data-modifying WITH clause), one round trip fewer than the row on its own.
 * `updated_at` is now(), the transaction's start: the time the order's lock was read with.
 */
export async function saveSagaState(
  tx: Transaction,
  order: Pick<OrderRow, 'id' | 'status' | 'cancelReason' | 'paymentOutcome' | 'inventoryOutcome'>,
  announcement?: OutboxRow,
): Promise<void> {
  const assignments = tx(order, 'status', 'cancelReason', 'paymentOutcome', 'inventoryOutcome');
  await tx`
    with saved as (update orders set ${assignments}, updated_at = now() where id = ${order.id})
    ${announcement ? tx`, event as (${outboxInsert(tx, announcement)})` : tx``}
    select 1`;
  const ahead = lockedAhead.get(tx);
  const read = ahead?.get(order.id);
  if (read) ahead!.set(order.id, { ...read, ...order, updatedAt: read.lockedAt });
}
