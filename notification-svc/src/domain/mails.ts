// What each consumed event says to its user, as a plain-text mail. Pure: the consumer
// renders a mail once, when the event arrives, and stores it; the sender only delivers it.
import type { CancelReason, OrderCancelled, OrderConfirmed, PaymentRefunded, UserRegistered } from '@shop/kit';

export const notificationKinds = ['WELCOME', 'ORDER_CONFIRMED', 'ORDER_CANCELLED', 'PAYMENT_REFUNDED'] as const;
export type NotificationKind = (typeof notificationKinds)[number];

/** A mail as rendered from one event: whom it is for, what it says, and when that happened. */
export interface RenderedMail {
  userId: string;
  kind: NotificationKind;
  subject: string;
  body: string;
  occurredAt: Date;
}

/**
 * Why an order was cancelled, in words a customer understands. A Record over the schema's
 * enum: a new reason in order-cancelled.avsc does not compile until it has its words here.
 */
export const cancelReasonWords: Record<CancelReason, string> = {
  PAYMENT_DECLINED: 'your card was declined',
  OUT_OF_STOCK: 'some of the items are no longer in stock',
  PAYMENT_ERROR: 'the payment could not be processed',
  TIMED_OUT: 'it could not be completed in time',
  CUSTOMER_CANCELLED: 'you cancelled it',
  ADMIN_CANCELLED: 'it was cancelled by our staff',
};

const SIGNATURE = '\n\n-- \nThe shop\n';

/**
 * An amount of minor units in the currency's own notation ("€25.98", "¥2,598", "BHD 2.598"):
 * a currency's minor unit is not always a hundredth (ISO 4217, which Intl knows), so the
 * amount is divided by as many places as the currency has. Plainly when Intl refuses the code.
 */
export function formatAmount(minorUnits: number, currency: string): string {
  try {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    return format.format(minorUnits / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
  } catch {
    return `${(minorUnits / 100).toFixed(2)} ${currency}`;
  }
}

/** Orders are named by the first block of their id, as the shop's pages would show them. */
export const orderNumber = (orderId: string): string => orderId.slice(0, 8).toUpperCase();

export function welcomeMail(event: UserRegistered): RenderedMail {
  const name = event.fullName ?? event.username;
  return {
    userId: event.userId,
    kind: 'WELCOME',
    subject: 'Welcome to the shop',
    body: `Hello ${name},\n\nyour account ${event.username} is ready. Happy shopping!${SIGNATURE}`,
    occurredAt: new Date(event.registeredAt),
  };
}

export function orderConfirmedMail(event: OrderConfirmed): RenderedMail {
  const order = orderNumber(event.orderId);
  return {
    userId: event.userId,
    kind: 'ORDER_CONFIRMED',
    subject: `Your order ${order} is confirmed`,
    body:
      `Hello,\n\nyour order ${order} is confirmed: the payment of ${formatAmount(event.totalCents, event.currency)} ` +
      `went through and your items are reserved.\n\nOrder id: ${event.orderId}${SIGNATURE}`,
    occurredAt: new Date(event.confirmedAt),
  };
}

export function orderCancelledMail(event: OrderCancelled): RenderedMail {
  const order = orderNumber(event.orderId);
  return {
    userId: event.userId,
    kind: 'ORDER_CANCELLED',
    subject: `Your order ${order} was cancelled`,
    body:
      `Hello,\n\nyour order ${order} was cancelled because ${cancelReasonWords[event.reason]}. ` +
      `If you were charged, the money is refunded; you will get a separate mail when it is.\n\nOrder id: ${event.orderId}${SIGNATURE}`,
    occurredAt: new Date(event.cancelledAt),
  };
}

export function paymentRefundedMail(event: PaymentRefunded): RenderedMail {
  const order = orderNumber(event.orderId);
  return {
    userId: event.userId,
    kind: 'PAYMENT_REFUNDED',
    subject: `Your payment for order ${order} was refunded`,
    body:
      `Hello,\n\n${formatAmount(event.amountCents, event.currency)} for your order ${order} was refunded to your card ` +
      `(refund ${event.gatewayRefundId}). It may take a few days to show on your statement.\n\nOrder id: ${event.orderId}${SIGNATURE}`,
    occurredAt: new Date(event.refundedAt),
  };
}

/** The Message-ID of the mail of an event: the same for every attempt, so a receiver can drop a resent copy. */
export const messageIdOf = (eventId: string): string => `<${eventId}@shop.local>`;
