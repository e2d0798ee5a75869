import type { EventCodec, EventHandlers } from '@shop/kit';
import { followUser, recordSagaReport, rememberProduct, rememberUser } from '../domain/orders.ts';

/** What order-svc does with each event it consumes (each call inside the consumer's transaction). */
export function orderEventHandlers(codec: EventCodec): EventHandlers {
  return {
    'user-registration': async (tx, { value }) => rememberUser(tx, value),
    // The kit records the account's standing (revoked tokens) before this runs.
    'user-updated': async (tx, { value }) => followUser(tx, value),
    'product-update': async (tx, { value }) => rememberProduct(tx, value),
    'payment-success': async (tx, { value }) => recordSagaReport(tx, codec, value.orderId, { payment: 'SUCCEEDED' }),
    'payment-failure': async (tx, { value }) => recordSagaReport(tx, codec, value.orderId, { payment: value.reason }),
    'inventory-reserved': async (tx, { value }) => recordSagaReport(tx, codec, value.orderId, { inventory: 'RESERVED' }),
    'inventory-rejected': async (tx, { value }) => recordSagaReport(tx, codec, value.orderId, { inventory: 'REJECTED' }),
  };
}
