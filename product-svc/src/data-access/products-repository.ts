import type { Sql, Transaction } from '@shop/kit';

export interface ProductRow {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stock: number;
  active: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProductChanges {
  name?: string;
  description?: string;
  priceCents?: number;
  currency?: string;
  stock?: number;
}

const columns = (sql: Sql | Transaction) =>
  sql`id, name, description, price_cents as "priceCents", currency, stock, active, version, created_at as "createdAt", updated_at as "updatedAt"`;

export async function insertProduct(tx: Transaction, product: Required<ProductChanges> & { id: string }): Promise<ProductRow> {
  const [row] = await tx<ProductRow[]>`
    insert into products (id, name, description, price_cents, currency, stock)
    values (${product.id}, ${product.name}, ${product.description}, ${product.priceCents}, ${product.currency}, ${product.stock})
    returning ${columns(tx)}`;
  return row!;
}

export async function findProduct(sql: Sql | Transaction, id: string): Promise<ProductRow | undefined> {
  const [row] = await sql<ProductRow[]>`select ${columns(sql)} from products where id = ${id}`;
  return row;
}

/** Active products after the one named by `after` (creation order), at most `limit`. */
export function listActiveProducts(sql: Sql, limit: number, after: string | undefined): Promise<ProductRow[]> {
  const position = after ? sql`and (created_at, id) > (select created_at, id from products where id = ${after})` : sql``;
  return sql<ProductRow[]>`
    select ${columns(sql)} from products
    where active ${position}
    order by created_at, id
    limit ${limit}`;
}

export function productExists(sql: Sql, id: string): Promise<boolean> {
  return sql`select 1 from products where id = ${id}`.then((rows) => rows.length > 0);
}

/**
 * Applies the changes and bumps the version, only if the product is at `expectedVersion`
 * (when given): the compare-and-set of optimistic concurrency, in one statement.
 */
export async function updateProduct(
  tx: Transaction,
  id: string,
  changes: ProductChanges & { active?: boolean },
  expectedVersion: number | undefined,
): Promise<ProductRow | undefined> {
  const [row] = await tx<ProductRow[]>`
    update products set
      name        = coalesce(${changes.name ?? null}, name),
      description = coalesce(${changes.description ?? null}, description),
      price_cents = coalesce(${changes.priceCents ?? null}::bigint, price_cents),
      currency    = coalesce(${changes.currency ?? null}, currency),
      stock       = coalesce(${changes.stock ?? null}::integer, stock),
      active      = coalesce(${changes.active ?? null}::boolean, active),
      version     = version + 1,
      updated_at  = now()
    where id = ${id} ${expectedVersion === undefined ? tx`` : tx`and version = ${expectedVersion}`}
    returning ${columns(tx)}`;
  return row;
}

/**
 * Moves stock by `delta` relative to the committed value, bumping the version: one statement,
 * so a concurrent move of the same product is added to, never overwritten.
 */
export async function adjustStock(tx: Transaction, id: string, delta: number): Promise<ProductRow> {
  const [row] = await tx<ProductRow[]>`
    update products set stock = stock + ${delta}, version = version + 1, updated_at = now()
    where id = ${id}
    returning ${columns(tx)}`;
  return row!;
}
