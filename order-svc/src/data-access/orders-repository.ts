import type { Sql, Transaction } from '@shop/kit';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';
export type CancelReason = 'PAYMENT_DECLINED' | 'OUT_OF_STOCK' | 'PAYMENT_ERROR';
export type PaymentOutcome = 'SUCCEEDED' | 'CARD_DECLINED' | 'PAYMENT_ERROR';
export type InventoryOutcome = 'RESERVED' | 'REJECTED';

export interface OrderLine {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

export interface OrderRow {
  id: string;
  userId: string;
  status: OrderStatus;
  cancelReason: CancelReason | null;
  totalCents: number;
  currency: string;
  paymentToken: string;
  paymentOutcome: PaymentOutcome | null;
  inventoryOutcome: InventoryOutcome | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  createdAt: Date;
  updatedAt: Date;
  items: OrderLine[];
}

export interface CatalogEntry {
  productId: string;
  priceCents: number;
  currency: string;
  active: boolean;
}

type Db = Sql | Transaction;

const orderColumns = (sql: Db) => sql`
  o.id, o.user_id as "userId", o.status, o.cancel_reason as "cancelReason", o.total_cents as "totalCents",
  o.currency, o.payment_token as "paymentToken", o.payment_outcome as "paymentOutcome",
  o.inventory_outcome as "inventoryOutcome", o.idempotency_key as "idempotencyKey", o.request_hash as "requestHash",
  o.created_at as "createdAt", o.updated_at as "updatedAt",
  (select json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents) order by i.product_id)
   from order_items i where i.order_id = o.id) as items`;

export const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

export async function knownUserExists(sql: Db, userId: string): Promise<boolean> {
  return (await sql`select 1 from known_users where id = ${userId}`).length > 0;
}

export async function rememberUser(tx: Transaction, user: { id: string; username: string; registeredAt: Date }): Promise<void> {
  await tx`
    insert into known_users (id, username, registered_at) values (${user.id}, ${user.username}, ${user.registeredAt})
    on conflict (id) do nothing`;
}

/** Stores a product state unless a newer version is already there. */
export async function rememberProduct(
  tx: Transaction,
  product: { productId: string; name: string; priceCents: number; currency: string; active: boolean; version: number },
): Promise<void> {
  await tx`
    insert into catalog (product_id, name, price_cents, currency, active, version)
    values (${product.productId}, ${product.name}, ${product.priceCents}, ${product.currency}, ${product.active}, ${product.version})
    on conflict (product_id) do update set
      name = excluded.name, price_cents = excluded.price_cents, currency = excluded.currency,
      active = excluded.active, version = excluded.version
    where catalog.version < excluded.version`;
}

export function catalogEntries(sql: Db, productIds: string[]): Promise<CatalogEntry[]> {
  return sql<CatalogEntry[]>`
    select product_id as "productId", price_cents as "priceCents", currency, active
    from catalog where product_id = any(${productIds}::uuid[])`;
}

export async function insertOrder(
  tx: Transaction,
  order: Pick<OrderRow, 'id' | 'userId' | 'totalCents' | 'currency' | 'paymentToken' | 'idempotencyKey' | 'requestHash' | 'items'>,
): Promise<void> {
  await tx`
    insert into orders (id, user_id, status, total_cents, currency, payment_token, idempotency_key, request_hash)
    values (${order.id}, ${order.userId}, 'PENDING', ${order.totalCents}, ${order.currency}, ${order.paymentToken}, ${order.idempotencyKey}, ${order.requestHash})`;
  await tx`
    insert into order_items ${tx(order.items.map((item) => ({ order_id: order.id, product_id: item.productId, quantity: item.quantity, unit_price_cents: item.unitPriceCents })))}`;
}

export async function findOrder(sql: Db, id: string, lock = false): Promise<OrderRow | undefined> {
  const [row] = await sql<OrderRow[]>`select ${orderColumns(sql)} from orders o where o.id = ${id} ${lock ? sql`for update of o` : sql``}`;
  return row;
}

export async function findOrderByIdempotencyKey(sql: Db, userId: string, key: string): Promise<OrderRow | undefined> {
  const [row] = await sql<OrderRow[]>`select ${orderColumns(sql)} from orders o where o.user_id = ${userId} and o.idempotency_key = ${key}`;
  return row;
}

/** A user's orders, newest first, after the order named by `before`. */
export function ordersOfUser(sql: Sql, userId: string, limit: number, before: string | undefined): Promise<OrderRow[]> {
  const position = before ? sql`and (o.created_at, o.id) < (select created_at, id from orders where id = ${before})` : sql``;
  return sql<OrderRow[]>`
    select ${orderColumns(sql)} from orders o
    where o.user_id = ${userId} ${position}
    order by o.created_at desc, o.id desc
    limit ${limit}`;
}

export async function saveSagaState(
  tx: Transaction,
  order: Pick<OrderRow, 'id' | 'status' | 'cancelReason' | 'paymentOutcome' | 'inventoryOutcome'>,
): Promise<Date> {
  const [row] = await tx<[{ updatedAt: Date }]>`
    update orders set status = ${order.status}, cancel_reason = ${order.cancelReason},
      payment_outcome = ${order.paymentOutcome}, inventory_outcome = ${order.inventoryOutcome}, updated_at = now()
    where id = ${order.id}
    returning updated_at as "updatedAt"`;
  return row.updatedAt;
}
