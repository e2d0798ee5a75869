import type { ConsumedEvent, EventFilter, EventTopic, ProductUpdated } from '@shop/kit';

/** What order-svc keeps of a product: the terms an order is placed on. Stock it leaves to product-svc. */
type Terms = Pick<ProductUpdated, 'name' | 'priceCents' | 'currency' | 'active'>;

const sameTerms = (a: Terms, b: Terms) =>
  a.name === b.name && a.priceCents === b.priceCents && a.currency === b.currency && a.active === b.active;

/**
 * Skips, before a transaction, the `product-update` records that only move stock, when the
 * catalog is known to hold the product's terms already: most of them, one per order placed.
 *
 * Such a record cannot be skipped on its face. The topic is compacted, so it may be the only
 * record of its product left, and a catalog rebuilt from the topic needs it. It is needless
 * when this process has seen the catalog commit a version of the product at least as new as
 * the one the record changed (`before`), and the record leaves the terms as they were: the
 * catalog then holds those terms, and applying it would change nothing but the row's version.
 * A skipped record counts as seen, so a run of stock moves is skipped after the first.
 *
 * Versions in the catalog only grow, so what was seen stays true whoever applies later
 * records (another instance, after a rebalance): a record older than what was seen is one
 * the catalog would ignore anyway. After a restart nothing is known, and each product's
 * first record is applied.
 */
export class CatalogFreshness implements EventFilter {
  /** By product: the newest version whose terms the catalog is known to hold. */
  private readonly seen = new Map<string, number>();

  isNeedless(event: ConsumedEvent<EventTopic>): boolean {
    if (event.topic !== 'product-update') return false;
    const update = event.value as ProductUpdated;
    const { before } = update;
    if (update.change !== 'STOCK_CHANGED' || before === null || !sameTerms(before, update)) return false;
    const seen = this.seen.get(update.productId);
    if (seen === undefined || seen < before.version) return false;
    this.seen.set(update.productId, Math.max(seen, update.version));
    return true;
  }

  applied(events: ConsumedEvent<EventTopic>[]): void {
    for (const event of events) {
      if (event.topic !== 'product-update') continue;
      const { productId, version } = event.value as ProductUpdated;
      this.seen.set(productId, Math.max(this.seen.get(productId) ?? version, version));
    }
  }
}
