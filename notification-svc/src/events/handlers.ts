import type { EventHandlers } from '@shop/kit';
import { orderCancelledMail, orderConfirmedMail, paymentRefundedMail, welcomeMail } from '../domain/mails.ts';
import { recordNotification, rememberRegisteredUser, rememberUpdatedUser } from '../domain/notifications.ts';

/**
 * What notification-svc does with each event it consumes (each call inside the consumer's
 * transaction): remember addresses, and record the mail an event is worth under its id.
 */
export function notificationEventHandlers(): EventHandlers {
  return {
    'user-registration': async (tx, { id, value }) => {
      await rememberRegisteredUser(tx, value);
      recordNotification(tx, id, welcomeMail(value));
    },
    'user-updated': async (tx, { value }) => rememberUpdatedUser(tx, value),
    'order-confirmed': async (tx, { id, value }) => recordNotification(tx, id, orderConfirmedMail(value)),
    'order-cancelled': async (tx, { id, value }) => recordNotification(tx, id, orderCancelledMail(value)),
    'payment-refunded': async (tx, { id, value }) => recordNotification(tx, id, paymentRefundedMail(value)),
  };
}
