import { randomUUID } from 'node:crypto';
import {
  invalidCursor,
  writeOutboxEvent,
  type EventCodec,
  type ProductChange,
  type ProductState,
  type Sql,
  type Transaction,
} from '@shop/kit';
import { findProduct, insertProduct, listActiveProducts, productExists, updateProduct } from '../data-access/products-repository.ts';
import { productUpdate } from './events.ts';
import { productProblems } from './problems.ts';

/** A product as stored; `version` is its ETag and orders its product-update events. */
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

/** What an admin may set on a product. */
export interface ProductChanges {
  name?: string;
  description?: string;
  priceCents?: number;
  currency?: string;
  stock?: number;
}

/** An admin's edit: the changes, or instead of a new `stock` the units to add to it (negative: to take away). */
export type ProductEdit = ProductChanges & { stockDelta?: number };

/** The most units a product's stock may hold (the column is an int). */
export const MAX_STOCK = 1_000_000_000;

export interface ProductsDependencies {
  sql: Sql;
  codec: EventCodec;
}

/**
 * The `product-update` event of a change, written in the transaction that made it: it carries
 * the whole product after the change, so a consumer's copy needs no other event to be right,
 * and `version`, so a consumer can ignore an older state arriving late; and the product as it
 * was before the change (null for CREATED), so a consumer can tell what changed.
 */
export function emitProductUpdate(
  tx: Transaction,
  codec: EventCodec,
  product: ProductRow,
  change: ProductChange,
  before: ProductState | null,
): Promise<string> {
  return writeOutboxEvent(tx, codec, productUpdate(product, change, before));
}

const notFound = (id: string) => productProblems.PRODUCT_NOT_FOUND(`There is no product ${id}.`);

export async function createProduct({ sql, codec }: ProductsDependencies, product: Required<ProductChanges>): Promise<ProductRow> {
  return sql.begin(async (tx) => {
    const row = await insertProduct(tx, { id: randomUUID(), ...product });
    await emitProductUpdate(tx, codec, row, 'CREATED', null);
    return row;
  });
}

export async function getProduct({ sql }: ProductsDependencies, id: string): Promise<ProductRow> {
  const product = await findProduct(sql, id);
  if (!product) throw notFound(id);
  return product;
}

/** The orders of the listing: `created` (oldest first) when the request names none. */
export type ProductSort = 'created' | 'price' | '-price' | 'name';

/**
 * Where the previous page ended, in the listing's order: the last product's id, with its sort
 * key for the sorts whose key can change (a price or a name edited between two pages must not
 * move the position). The default order's key, created_at, never changes: its id is enough.
 */
export type ListingPosition =
  | { sort: 'created'; id: string }
  | { sort: 'price'; priceCents: number; id: string }
  | { sort: '-price'; priceCents: number; id: string }
  | { sort: 'name'; name: string; id: string };

/** What the public listing keeps besides being active. */
export interface ProductFilter {
  /** Words to find in the name or description, each as the start of a word. */
  searchText?: string;
  minPriceCents?: number;
  maxPriceCents?: number;
  /** Only products with stock left. */
  inStock: boolean;
}

export type ProductListing = {
  [Sort in ProductSort]: { sort: Sort; filter: ProductFilter; position: Extract<ListingPosition, { sort: Sort }> | undefined };
}[ProductSort];

/** What a client asks of the listing (GET /products). */
export interface ProductSearch {
  text?: string | undefined;
  minPriceCents?: number | undefined;
  maxPriceCents?: number | undefined;
  inStock?: boolean | undefined;
  sort: ProductSort;
  limit: number;
  after?: ListingPosition | undefined;
}

// The words themselves are found by the database (search_prefix_query in
// migrations/004.do.search-query.sql), by the parser that indexed the products.
const letterOrDigit = /[\p{L}\p{N}]/u;

/** One page of the active catalog, filtered and sorted; `last` is where the next page starts. */
export async function listProducts(
  { sql }: ProductsDependencies,
  search: ProductSearch,
): Promise<{ items: ProductRow[]; last: ListingPosition | undefined }> {
  const { text, minPriceCents, maxPriceCents, sort, after, limit } = search;
  if (minPriceCents !== undefined && maxPriceCents !== undefined && minPriceCents > maxPriceCents) {
    throw productProblems.INVALID_PRICE_RANGE(`minPriceCents (${minPriceCents}) is above maxPriceCents (${maxPriceCents}).`);
  }
  const filter: ProductFilter = { inStock: search.inStock ?? false };
  if (text !== undefined) {
    if (!letterOrDigit.test(text)) throw productProblems.INVALID_SEARCH_QUERY('q must contain at least one letter or digit.');
    filter.searchText = text;
  }
  if (minPriceCents !== undefined) filter.minPriceCents = minPriceCents;
  if (maxPriceCents !== undefined) filter.maxPriceCents = maxPriceCents;
  // A cursor of another order names a position that means nothing in this one.
  if (after !== undefined && after.sort !== sort) throw invalidCursor();
  if (after?.sort === 'created' && !(await productExists(sql, after.id))) throw invalidCursor();
  const listing = { sort, filter, position: after } as ProductListing;
  // One extra row says whether there is a next page without a count query.
  const rows = await listActiveProducts(sql, listing, limit + 1);
  const items = rows.slice(0, limit);
  const last = rows.length > limit ? items.at(-1) : undefined;
  return { items, last: last && positionAfter(sort, last) };
}

function positionAfter(sort: ProductSort, product: ProductRow): ListingPosition {
  switch (sort) {
    case 'created':
      return { sort, id: product.id };
    case 'price':
    case '-price':
      return { sort, priceCents: product.priceCents, id: product.id };
    case 'name':
      return { sort, name: product.name, id: product.id };
  }
}

async function changeProduct(
  { sql, codec }: ProductsDependencies,
  id: string,
  changes: ProductEdit & { active?: boolean },
  expectedVersion: number | undefined,
  change: ProductChange,
): Promise<ProductRow> {
  return sql.begin(async (tx) => {
    let transition = await updateProduct(tx, id, changes, expectedVersion, MAX_STOCK);
    if (!transition) {
      // Locked, so that what is decided from it holds until the commit.
      const current = await findProduct(tx, id, true);
      if (!current) throw notFound(id);
      const versionMatches = expectedVersion === undefined || expectedVersion === current.version;
      const { stockDelta } = changes;
      if (stockDelta !== undefined && versionMatches) {
        if (!stockInRange(current.stock + stockDelta)) {
          throw productProblems.STOCK_OUT_OF_RANGE(
            `The stock is ${current.stock}: adding ${stockDelta} would take it outside 0 to ${MAX_STOCK}.`,
            { etag: `"${current.version}"` },
          );
        }
        // The stock moved into range between the two statements (a release committed): the
        // row is locked by this transaction now, so the change goes through.
        transition = (await updateProduct(tx, id, changes, expectedVersion, MAX_STOCK))!;
      } else {
        // A delete that another one beat to it: deleting an inactive product changes nothing.
        if (changes.active === false && !current.active && versionMatches) return current;
        throw productProblems.VERSION_MISMATCH(
          `The product is at version ${current.version}, not ${expectedVersion}; read it again and retry.`,
          {
            etag: `"${current.version}"`,
          },
        );
      }
    }
    await emitProductUpdate(tx, codec, transition.after, change, transition.before);
    return transition.after;
  });
}

const stockInRange = (stock: number) => stock >= 0 && stock <= MAX_STOCK;

/**
 * An admin's edit; with `expectedVersion` (If-Match) it applies only to that version. A
 * `stockDelta` is added to the stock the product has when the change is made (under its
 * lock), so a reservation made since the admin last read it is not undone, as setting a
 * `stock` read before it would.
 */
export function editProduct(
  dependencies: ProductsDependencies,
  id: string,
  changes: ProductEdit,
  expectedVersion: number | undefined,
): Promise<ProductRow> {
  if (changes.stock !== undefined && changes.stockDelta !== undefined) {
    return Promise.reject(
      productProblems.INVALID_STOCK_CHANGE('Send either stock (the new stock) or stockDelta (units to add), not both.'),
    );
  }
  return changeProduct(dependencies, id, changes, expectedVersion, 'UPDATED');
}

/**
 * Soft delete: the product stays (orders refer to it) but is inactive: no longer listed or
 * orderable. Deleting an inactive product again changes nothing and emits nothing.
 */
export async function deactivateProduct(
  dependencies: ProductsDependencies,
  id: string,
  expectedVersion: number | undefined,
): Promise<void> {
  const current = await getProduct(dependencies, id);
  if (!current.active && (expectedVersion === undefined || expectedVersion === current.version)) return;
  await changeProduct(dependencies, id, { active: false }, expectedVersion, 'DELETED');
}
