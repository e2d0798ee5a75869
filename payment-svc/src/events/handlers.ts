import type { EventHandlers } from '@shop/kit';
import { chargeOrder, settleCancelledOrder, type PaymentsDependencies } from '../domain/payments.ts';

/** What payment-svc does with each event it consumes (each call inside the consumer's transaction). */
export function paymentEventHandlers(dependencies: PaymentsDependencies): EventHandlers {
  return {
    'order-placed': (tx, { value }) => chargeOrder(tx, dependencies, value),
    'order-cancelled': (tx, { value }) => settleCancelledOrder(tx, dependencies, value),
  };
}
