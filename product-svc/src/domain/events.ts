// The events product-svc writes to its outbox, one typed constructor per topic.
import { outboxEvent, type ProductChange, type ProductState, type ReservedLine, type Shortage } from '@shop/kit';
import type { ProductRow } from './products.ts';

export const productUpdate = (product: ProductRow, change: ProductChange, before: ProductState | null) =>
  outboxEvent('product-update', product.id, {
    productId: product.id,
    change,
    name: product.name,
    description: product.description,
    priceCents: product.priceCents,
    currency: product.currency,
    stock: product.stock,
    active: product.active,
    version: product.version,
    updatedAt: product.updatedAt.getTime(),
    before,
    createdAt: product.createdAt.getTime(),
  });

export const inventoryReserved = (orderId: string, items: ReservedLine[]) =>
  outboxEvent('inventory-reserved', orderId, { orderId, items, reservedAt: Date.now() });

export const inventoryRejected = (orderId: string, shortages: Shortage[]) =>
  outboxEvent('inventory-rejected', orderId, { orderId, shortages, rejectedAt: Date.now() });
