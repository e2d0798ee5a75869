import { randomUUID } from 'node:crypto';
import { invalidCursor, writeOutboxEvent, type EventCodec, type ProductChange, type Sql, type Transaction } from '@shop/kit';
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

export interface ProductsDependencies {
  sql: Sql;
  codec: EventCodec;
}

/**
 * The `product-update` event of a change, written in the transaction that made it: it carries
 * the whole product after the change, so a consumer's copy needs no other event to be right,
 * and `version`, so a consumer can ignore an older state arriving late.
 */
export function emitProductUpdate(tx: Transaction, codec: EventCodec, product: ProductRow, change: ProductChange): Promise<string> {
  return writeOutboxEvent(tx, codec, productUpdate(product, change));
}

const notFound = (id: string) => productProblems.PRODUCT_NOT_FOUND(`There is no product ${id}.`);

export async function createProduct({ sql, codec }: ProductsDependencies, product: Required<ProductChanges>): Promise<ProductRow> {
  return sql.begin(async (tx) => {
    const row = await insertProduct(tx, { id: randomUUID(), ...product });
    await emitProductUpdate(tx, codec, row, 'CREATED');
    return row;
  });
}

export async function getProduct({ sql }: ProductsDependencies, id: string): Promise<ProductRow> {
  const product = await findProduct(sql, id);
  if (!product) throw notFound(id);
  return product;
}

/** One page of the active catalog; the cursor is the last product of the previous page. */
export async function listProducts(
  { sql }: ProductsDependencies,
  limit: number,
  after: string | undefined,
): Promise<{ items: ProductRow[]; last: string | undefined }> {
  if (after !== undefined && !(await productExists(sql, after))) {
    throw invalidCursor();
  }
  // One extra row says whether there is a next page without a count query.
  const rows = await listActiveProducts(sql, limit + 1, after);
  const items = rows.slice(0, limit);
  return { items, last: rows.length > limit ? items.at(-1)?.id : undefined };
}

async function changeProduct(
  { sql, codec }: ProductsDependencies,
  id: string,
  changes: ProductChanges & { active?: boolean },
  expectedVersion: number | undefined,
  change: ProductChange,
): Promise<ProductRow> {
  return sql.begin(async (tx) => {
    const row = await updateProduct(tx, id, changes, expectedVersion);
    if (!row) {
      const current = await findProduct(tx, id);
      if (!current) throw notFound(id);
      throw productProblems.VERSION_MISMATCH(
        `The product is at version ${current.version}, not ${expectedVersion}; read it again and retry.`,
        {
          etag: `"${current.version}"`,
        },
      );
    }
    await emitProductUpdate(tx, codec, row, change);
    return row;
  });
}

/** An admin's edit; with `expectedVersion` (If-Match) it applies only to that version. */
export function editProduct(
  dependencies: ProductsDependencies,
  id: string,
  changes: ProductChanges,
  expectedVersion: number | undefined,
): Promise<ProductRow> {
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
