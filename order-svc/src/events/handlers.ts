import type { EventCodec, EventHandlers } from '@shop/kit';
import { rememberProduct, rememberUser } from '../data-access/orders-repository.ts';
import { recordSagaReport } from '../domain/orders.ts';

/** What order-svc does with each event it consumes (each call inside the consumer's transaction). */
export function orderEventHandlers(codec: EventCodec): EventHandlers {
  return {
    'user-registration': async (tx, { value }) => {
      await rememberUser(tx, { id: value.userId, username: value.username, registeredAt: new Date(value.registeredAt) });
    },
    'product-update': async (tx, { value }) => {
      await rememberProduct(tx, value);
    },
    'payment-success': async (tx, { value }) => recordSagaReport(tx, codec, value.orderId, { payment: 'SUCCEEDED' }),
    'payment-failure': async (tx, { value }) => recordSagaReport(tx, codec, value.orderId, { payment: value.reason }),
    'inventory-reserved': async (tx, { value }) => recordSagaReport(tx, codec, value.orderId, { inventory: 'RESERVED' }),
    'inventory-rejected': async (tx, { value }) => recordSagaReport(tx, codec, value.orderId, { inventory: 'REJECTED' }),
  };
}
