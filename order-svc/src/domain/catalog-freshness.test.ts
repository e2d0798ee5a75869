import { describe, expect, it } from 'vitest';
import type { ConsumedEvent, EventTopic, ProductUpdated } from '@shop/kit';
import { CatalogFreshness } from './catalog-freshness.ts';

const productId = '0b8e4d1a-7c62-4f3e-8d59-2a41c6e9b705';
const terms = { name: 'Kettle', description: 'Boils', priceCents: 2500, currency: 'EUR', active: true };

function update(change: ProductUpdated['change'], version: number, changes: Partial<ProductUpdated> = {}): ConsumedEvent<'product-update'> {
  const value: ProductUpdated = {
    productId,
    change,
    ...terms,
    stock: 10,
    version,
    updatedAt: 0,
    before: version === 1 ? null : { ...terms, stock: 11, version: version - 1 },
    createdAt: 0,
    ...changes,
  };
  return { id: `event-${version}`, topic: 'product-update', key: productId, value, partition: 0, offset: String(version), timestamp: 0 };
}

const stockMove = (version: number) => update('STOCK_CHANGED', version);
const asAny = (event: ConsumedEvent<'product-update'>) => event as unknown as ConsumedEvent<EventTopic>;

describe("order-svc's filter of product updates", () => {
  it('applies a stock move of a product whose terms it has not seen committed', () => {
    expect(new CatalogFreshness().isNeedless(asAny(stockMove(5)))).toBe(false);
  });

  it('skips stock moves once the version they start from was committed, and each skipped one counts as seen', () => {
    const filter = new CatalogFreshness();
    filter.applied([asAny(update('UPDATED', 4))]);
    expect(filter.isNeedless(asAny(stockMove(5)))).toBe(true);
    expect(filter.isNeedless(asAny(stockMove(6)))).toBe(true);
  });

  it('applies a stock move that starts from a version it has not seen (applied elsewhere, or still in a batch)', () => {
    const filter = new CatalogFreshness();
    filter.applied([asAny(update('UPDATED', 4))]);
    expect(filter.isNeedless(asAny(stockMove(7)))).toBe(false);
  });

  it('never skips a change of terms, a creation, or a record without the state before it', () => {
    const filter = new CatalogFreshness();
    filter.applied([asAny(update('UPDATED', 4))]);
    expect(filter.isNeedless(asAny(update('UPDATED', 5, { priceCents: 2700 })))).toBe(false);
    expect(filter.isNeedless(asAny(update('DELETED', 5, { active: false })))).toBe(false);
    expect(filter.isNeedless(asAny(update('STOCK_CHANGED', 5, { priceCents: 2700 })))).toBe(false);
    expect(filter.isNeedless(asAny(update('STOCK_CHANGED', 5, { before: null })))).toBe(false);
    expect(filter.isNeedless(asAny(update('CREATED', 1)))).toBe(false);
  });

  it('skips a late copy of an older stock move without forgetting the newer version it has seen', () => {
    const filter = new CatalogFreshness();
    filter.applied([asAny(update('UPDATED', 8, { priceCents: 2700, before: { ...terms, stock: 10, version: 7 } }))]);
    expect(filter.isNeedless(asAny(stockMove(6)))).toBe(true);
    expect(
      filter.isNeedless(
        asAny(update('STOCK_CHANGED', 9, { priceCents: 2700, before: { ...terms, priceCents: 2700, stock: 10, version: 8 } })),
      ),
    ).toBe(true);
  });

  it('lets every other topic through', () => {
    const filter = new CatalogFreshness();
    const payment = { ...stockMove(5), topic: 'payment-success' } as unknown as ConsumedEvent<EventTopic>;
    expect(filter.isNeedless(payment)).toBe(false);
  });
});
