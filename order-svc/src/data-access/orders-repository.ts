import { outboxClause, outboxInsert, PerTransaction, StagedWrites, type OutboxRow, type Sql, type Transaction } from '@shop/kit';
import type { CatalogEntry, KnownUser, OrderRow } from '../domain/orders.ts';

type Db = Sql | Transaction;

const columns = (sql: Db) => sql`
  id, user_id, status, cancel_reason, total_cents, currency, payment_token, payment_outcome, inventory_outcome,
  idempotency_key, request_hash, created_at, updated_at`;

/** The lines of `orders o`, as JSON: its keys are not column names, so they are spelled as TypeScript spells them. */
const items = (sql: Db) => sql`
  (select json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents) order by i.product_id)
   from order_items i where i.order_id = o.id) as items`;

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
 * The orders a transaction locked and read (lockOrders, lockOrder), as the saga states it
 * staged since have left them: lockOrder answers from here, without a round trip. The rows
 * are locked until the transaction ends, so what was read is what the database holds, plus
 * what the transaction is about to write.
 */
const lockedAhead = new PerTransaction(() => new Map<string, LockedOrder>());

function rememberLocked(tx: Transaction, rows: LockedOrder[]): void {
  const ahead = lockedAhead.of(tx);
  for (const row of rows) ahead.set(row.id, row);
}

/** Locks and reads several orders in one statement (a consumed batch's), for lockOrder to take them from. */
export async function lockOrders(tx: Transaction, ids: string[]): Promise<void> {
  const rows = await tx<LockedOrder[]>`
    select ${columns(tx)}, ${items(tx)}, now() as locked_at from orders o
    where o.id = any(${ids}::uuid[]) order by o.id for update of o`;
  rememberLocked(tx, rows);
}

export async function lockOrder(tx: Transaction, id: string): Promise<LockedOrder | undefined> {
  const ahead = lockedAhead.peek(tx)?.get(id);
  if (ahead) return ahead;
  const [row] = await tx<LockedOrder[]>`
    select ${columns(tx)}, ${items(tx)}, now() as locked_at from orders o where o.id = ${id} for update of o`;
  if (row) rememberLocked(tx, [row]);
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
export async function lockOverdueOrders(tx: Transaction, deadlineMs: number, limit: number): Promise<LockedOrder[]> {
  const rows = await tx<LockedOrder[]>`
    select ${columns(tx)}, ${items(tx)}, now() as locked_at from orders o
    where o.status = 'PENDING' and o.created_at < now() - ${deadlineMs} * interval '1 millisecond'
    order by o.created_at
    limit ${limit}
    for update of o skip locked`;
  rememberLocked(tx, rows);
  return rows;
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

type OrderSagaState = Pick<OrderRow, 'id' | 'status' | 'cancelReason' | 'paymentOutcome' | 'inventoryOutcome'>;

/** The saga states a transaction decided and has not written yet, with the outbox rows announcing them. */
const stagedSagaStates = new StagedWrites<OrderSagaState>();

/**
 * Stages an order's new saga state (and the outbox row that announces it, when there is one)
 * for saveStagedSagaStates, which writes a transaction's in one statement: a consumed batch's
 * reports cost one round trip between them instead of one each. The order must have been
 * locked in this transaction; lockOrder answers with the staged state from now on.
 */
export function stageSagaState(tx: Transaction, order: OrderSagaState, announcement?: OutboxRow): void {
  const ahead = lockedAhead.peek(tx);
  const read = ahead?.get(order.id);
  if (!ahead || !read) throw new Error(`the saga state of order ${order.id}, which this transaction has not locked`);
  ahead.set(order.id, { ...read, ...order, updatedAt: read.lockedAt });
  stagedSagaStates.stage(tx, order, announcement ? [announcement] : []);
}

/**
 * Writes the saga states the transaction staged, each order's last, and their outbox rows in
 * the order they were staged: one statement (data-modifying WITH clauses). `updated_at` is
 * now(), the transaction's start: the time the orders' locks were read with.
 */
export async function saveStagedSagaStates(tx: Transaction): Promise<void> {
  const staged = stagedSagaStates.take(tx);
  if (!staged) return;
  const states = [...new Map(staged.changes.map((state) => [state.id, state])).values()];
  const column = <K extends keyof OrderSagaState>(key: K) => states.map((state) => state[key]);
  await tx`
    with saved as (
      update orders o set
        status = s.status, cancel_reason = s.cancel_reason, payment_outcome = s.payment_outcome,
        inventory_outcome = s.inventory_outcome, updated_at = now()
      from unnest(
        ${column('id')}::uuid[], ${column('status')}::text[], ${column('cancelReason')}::text[],
        ${column('paymentOutcome')}::text[], ${column('inventoryOutcome')}::text[]
      ) as s (id, status, cancel_reason, payment_outcome, inventory_outcome)
      where o.id = s.id)
    ${outboxClause(tx, staged.announcements)}
    select 1`;
}
