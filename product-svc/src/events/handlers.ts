import type { EventCodec, EventHandlers } from '@shop/kit';
import { releaseStock, reserveStock } from '../domain/inventory.ts';

/** What product-svc does with each event it consumes (each call inside the consumer's transaction). */
export function inventoryEventHandlers(codec: EventCodec): EventHandlers {
  return {
    'order-placed': (tx, { value }) => reserveStock(tx, codec, value),
    'order-cancelled': (tx, { value }) => releaseStock(tx, codec, value),
  };
}
