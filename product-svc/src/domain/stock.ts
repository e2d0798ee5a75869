// Stock moves worked out before they are written: the products as they will stand and the
// product-update event of each move, so that the moves, the reservation they belong to and
// all their events reach the database in one statement. Pure, so it is unit-tested.
import type { OutboxEvent, ProductState } from '@shop/kit';
import { productUpdate } from './events.ts';
import type { ProductRow } from './products.ts';

export interface StockMove {
  productId: string;
  /** Units added (a release) or, negative, taken (a reservation). */
  delta: number;
}

export interface MovedStock {
  /** Each product moved, as it stands after its last move. */
  products: ProductRow[];
  /** A STOCK_CHANGED product-update per move, in the moves' order. */
  events: OutboxEvent<'product-update'>[];
}

const stateOf = ({ name, description, priceCents, currency, stock, active, version }: ProductRow): ProductState => ({
  name,
  description,
  priceCents,
  currency,
  stock,
  active,
  version,
});

/**
 * Applies `moves`, one after the other, to `products` as this transaction read them (locked,
 * so nobody else moves them meanwhile), as the database will when it stores them at `at`, the
 * transaction's `now()`: each move bumps its product's version by one and has an event of its
 * own, which carries the product before and after it, as an UPDATE's RETURNING would have.
 */
export function moveStock(products: ProductRow[], moves: StockMove[], at: Date): MovedStock {
  const current = new Map(products.map((product) => [product.id, product]));
  const events = moves.map(({ productId, delta }) => {
    const before = current.get(productId);
    if (!before) throw new Error(`no product ${productId} to move stock of`);
    const after = { ...before, stock: before.stock + delta, version: before.version + 1, updatedAt: at };
    current.set(productId, after);
    return productUpdate(after, 'STOCK_CHANGED', stateOf(before));
  });
  const moved = new Set(moves.map((move) => move.productId));
  return { products: [...current.values()].filter((product) => moved.has(product.id)), events };
}
