import type { EventHandlers } from '@shop/kit';
import type { ClaimedCharges } from '../domain/charging.ts';
import { chargeOrder, settleCancelledOrder, type PaymentsDependencies } from '../domain/payments.ts';

/** What payment-svc does with each event it consumes (each call inside the consumer's transaction). */
export function paymentEventHandlers(dependencies: PaymentsDependencies, charges: ClaimedCharges): EventHandlers {
  return {
    'order-placed': (tx, { value }) => chargeOrder(tx, dependencies, value, charges),
    'order-cancelled': (tx, { value }) => settleCancelledOrder(tx, dependencies, value),
  };
}
