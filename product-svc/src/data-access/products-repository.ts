import type { ProductState, Sql, Transaction } from '@shop/kit';
import type { ProductChanges, ProductListing, ProductRow } from '../domain/products.ts';

/** A product's columns as ProductRow has them. */
export const productColumns = (sql: Sql | Transaction) =>
  sql`id, name, description, price_cents, currency, stock, active, version, created_at, updated_at`;

/** A product row and the state it had before the statement that returned it changed it. */
export type ProductTransition = { after: ProductRow; before: ProductState };

/**
 * The columns an UPDATE returns: the new row (`target`), and the row as it was (`previous`, a
 * locked copy of it joined in FROM) as one json value `before` (jsonb keeps the numbers
 * numbers; the keys are written in camelCase here, since the transform renames columns only).
 */
const transitionColumns = (tx: Transaction) => tx`
  target.id, target.name, target.description, target.price_cents, target.currency, target.stock, target.active,
  target.version, target.created_at, target.updated_at,
  jsonb_build_object(
    'name', previous.name, 'description', previous.description, 'priceCents', previous.price_cents,
    'currency', previous.currency, 'stock', previous.stock, 'active', previous.active, 'version', previous.version
  ) as before`;

/**
 * The row to change, locked, as the FROM of an UPDATE: its columns are read before the SET
 * applies, so RETURNING can show the product before and after in one round trip. The lock
 * (FOR UPDATE) makes the copy the very version the UPDATE replaces, also when another
 * transaction changed the row meanwhile (without it, the copy could be an older snapshot).
 */
const lockedPrevious = (tx: Transaction, id: string) => tx`
  (select id, name, description, price_cents, currency, stock, active, version from products where id = ${id} for update) as previous`;

function asTransition(row: ProductRow & { before: ProductState }): ProductTransition {
  const { before, ...after } = row;
  return { after, before };
}

export async function insertProduct(tx: Transaction, product: Required<ProductChanges> & { id: string }): Promise<ProductRow> {
  const values = tx(product, 'id', 'name', 'description', 'priceCents', 'currency', 'stock');
  const [row] = await tx<ProductRow[]>`insert into products ${values} returning ${productColumns(tx)}`;
  return row!;
}

export async function findProduct(sql: Sql | Transaction, id: string, lock = false): Promise<ProductRow | undefined> {
  const [row] = await sql<ProductRow[]>`select ${productColumns(sql)} from products where id = ${id} ${lock ? sql`for update` : sql``}`;
  return row;
}

export function productExists(sql: Sql, id: string): Promise<boolean> {
  return sql`select 1 from products where id = ${id}`.then((rows) => rows.length > 0);
}

/**
 * Each listing order: its ORDER BY, and the condition "after this position" in that order,
 * written as a row comparison on (sort key, id) so that it matches the indexes (see
 * migrations/003.do.search.sql) and a key shared by many products still pages exactly.
 */
function listingOrder(sql: Sql, listing: ProductListing) {
  switch (listing.sort) {
    case 'created':
      // The default listing's cursor names the last product only (the cursors issued before
      // sorting existed stay valid); created_at never changes, so its position is looked up.
      return {
        orderBy: sql`created_at, id`,
        after: listing.position && sql`and (created_at, id) > (select created_at, id from products where id = ${listing.position.id})`,
      };
    case 'price':
      return {
        orderBy: sql`price_cents, id`,
        after: listing.position && sql`and (price_cents, id) > (${listing.position.priceCents}::bigint, ${listing.position.id}::uuid)`,
      };
    case '-price':
      return {
        orderBy: sql`price_cents desc, id desc`,
        after: listing.position && sql`and (price_cents, id) < (${listing.position.priceCents}::bigint, ${listing.position.id}::uuid)`,
      };
    case 'name':
      return {
        orderBy: sql`name, id`,
        after: listing.position && sql`and (name, id) > (${listing.position.name}::text, ${listing.position.id}::uuid)`,
      };
  }
}

/** Active products that pass the listing's filters, after its position in its order, at most `limit`. */
export function listActiveProducts(sql: Sql, listing: ProductListing, limit: number): Promise<ProductRow[]> {
  const { filter } = listing;
  const { orderBy, after } = listingOrder(sql, listing);
  return sql<ProductRow[]>`
    select ${productColumns(sql)} from products
    where active
      ${filter.searchText === undefined ? sql`` : sql`and search_document @@ search_prefix_query(${filter.searchText})`}
      ${filter.minPriceCents === undefined ? sql`` : sql`and price_cents >= ${filter.minPriceCents}`}
      ${filter.maxPriceCents === undefined ? sql`` : sql`and price_cents <= ${filter.maxPriceCents}`}
      ${filter.inStock ? sql`and stock > 0` : sql``}
      ${after ?? sql``}
    order by ${orderBy}
    limit ${limit}`;
}

/**
 * Sets the columns `changes` names (and adds `stockDelta` to the locked row's stock, if it
 * stays within 0 to `maxStock`) and bumps the version, only if the product is at
 * `expectedVersion` (when given): the compare-and-set of optimistic concurrency, in one
 * statement, which also returns the product as it was before. Deactivating changes only an
 * active product: of two deletes at once, the second finds it inactive once it has the lock.
 */
export async function updateProduct(
  tx: Transaction,
  id: string,
  changes: ProductChanges & { active?: boolean; stockDelta?: number },
  expectedVersion: number | undefined,
  maxStock: number,
): Promise<ProductTransition | undefined> {
  const changed = (['name', 'description', 'priceCents', 'currency', 'stock', 'active'] as const).filter(
    (column) => changes[column] !== undefined,
  );
  const { stockDelta } = changes;
  if (changed.length === 0 && stockDelta === undefined) throw new Error(`an update of product ${id} that changes nothing`);
  const addedStock = stockDelta === undefined ? undefined : tx`stock = previous.stock + ${stockDelta}`;
  // The alias has no AS: before an update helper, postgres.js would take `as` for a select list.
  // The helper follows `set` directly: postgres.js tells its kind from the word before it.
  const [row] = await tx<(ProductRow & { before: ProductState })[]>`
    update products target
       set ${changed.length > 0 ? tx(changes, changed) : addedStock!}
           ${changed.length > 0 && addedStock ? tx`, ${addedStock}` : tx``},
           version = target.version + 1, updated_at = now()
    from ${lockedPrevious(tx, id)}
    where target.id = previous.id ${expectedVersion === undefined ? tx`` : tx`and previous.version = ${expectedVersion}`}
      ${changes.active === false ? tx`and previous.active` : tx``}
      ${stockDelta === undefined ? tx`` : tx`and previous.stock + ${stockDelta} between 0 and ${maxStock}`}
    returning ${transitionColumns(tx)}`;
  return row && asTransition(row);
}

/**
 * Stores the stock and versions that moveStock (domain/stock.ts) worked out, as a fragment for
 * a data-modifying WITH clause. The products were read and locked by this transaction, so the
 * values moved from are the ones replaced; updated_at is the transaction's now(), as moveStock
 * was told.
 */
export const storeMovedStock = (tx: Transaction, products: Pick<ProductRow, 'id' | 'stock' | 'version'>[]) => tx`
  update products target set stock = moved.stock, version = moved.version, updated_at = now()
  from unnest(
    ${products.map((product) => product.id)}::uuid[],
    ${products.map((product) => product.stock)}::integer[],
    ${products.map((product) => product.version)}::integer[]
  ) as moved (id, stock, version)
  where target.id = moved.id`;
