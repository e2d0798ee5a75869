import type { Sql, Transaction } from '@shop/kit';
import type { ProductChanges, ProductRow } from '../domain/products.ts';

const columns = (sql: Sql | Transaction) =>
  sql`id, name, description, price_cents, currency, stock, active, version, created_at, updated_at`;

export async function insertProduct(tx: Transaction, product: Required<ProductChanges> & { id: string }): Promise<ProductRow> {
  const values = tx(product, 'id', 'name', 'description', 'priceCents', 'currency', 'stock');
  const [row] = await tx<ProductRow[]>`insert into products ${values} returning ${columns(tx)}`;
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
 * Sets the columns `changes` names and bumps the version, only if the product is at
 * `expectedVersion` (when given): the compare-and-set of optimistic concurrency, in one statement.
 */
export async function updateProduct(
  tx: Transaction,
  id: string,
  changes: ProductChanges & { active?: boolean },
  expectedVersion: number | undefined,
): Promise<ProductRow | undefined> {
  const changed = (['name', 'description', 'priceCents', 'currency', 'stock', 'active'] as const).filter(
    (column) => changes[column] !== undefined,
  );
  if (changed.length === 0) throw new Error(`an update of product ${id} that changes nothing`);
  const [row] = await tx<ProductRow[]>`
    update products set ${tx(changes, changed)}, version = version + 1, updated_at = now()
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
