import { describe, expect, it } from 'vitest';
import type { ProductRow } from './products.ts';
import { moveStock } from './stock.ts';

const created = new Date('2026-12-01T10:00:00Z');
const at = new Date('2026-12-04T14:00:00.123Z');

const product = (id: string, stock: number, version: number): ProductRow => ({
  id,
  name: `product ${id}`,
  description: 'a thing',
  priceCents: 500,
  currency: 'EUR',
  stock,
  active: true,
  version,
  createdAt: created,
  updatedAt: created,
});

describe('moveStock', () => {
  it('takes each line from its product, one version further, with an event carrying the product before and after', () => {
    const moved = moveStock(
      [product('a', 10, 3), product('b', 5, 1), product('c', 7, 2)],
      [
        { productId: 'a', delta: -2 },
        { productId: 'b', delta: -5 },
      ],
      at,
    );
    expect(moved.products).toEqual([
      { ...product('a', 8, 4), updatedAt: at },
      { ...product('b', 0, 2), updatedAt: at },
    ]);
    expect(moved.events.map((event) => [event.topic, event.aggregateId])).toEqual([
      ['product-update', 'a'],
      ['product-update', 'b'],
    ]);
    expect(moved.events[0]!.value).toMatchObject({
      productId: 'a',
      change: 'STOCK_CHANGED',
      stock: 8,
      version: 4,
      updatedAt: at.getTime(),
      before: { name: 'product a', description: 'a thing', priceCents: 500, currency: 'EUR', stock: 10, active: true, version: 3 },
    });
  });

  it('applies two moves of one product one after the other, each an event of its own', () => {
    const moved = moveStock(
      [product('a', 10, 3)],
      [
        { productId: 'a', delta: 4 },
        { productId: 'a', delta: -1 },
      ],
      at,
    );
    expect(moved.products).toEqual([{ ...product('a', 13, 5), updatedAt: at }]);
    expect(
      moved.events.map((event) => [event.value.stock, event.value.version, event.value.before?.stock, event.value.before?.version]),
    ).toEqual([
      [14, 4, 10, 3],
      [13, 5, 14, 4],
    ]);
  });

  it('refuses to move a product it was not given', () => {
    expect(() => moveStock([product('a', 1, 1)], [{ productId: 'b', delta: -1 }], at)).toThrow('no product b');
  });
});
