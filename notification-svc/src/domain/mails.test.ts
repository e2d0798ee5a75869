import { describe, expect, it } from 'vitest';
import { eventCatalogue, type CancelReason } from '@shop/kit';
import {
  cancelReasonWords,
  formatAmount,
  messageIdOf,
  orderCancelledMail,
  orderConfirmedMail,
  orderNumber,
  paymentRefundedMail,
  welcomeMail,
} from './mails.ts';

const examples = {
  registered: eventCatalogue['user-registration'].example,
  confirmed: eventCatalogue['order-confirmed'].example,
  cancelled: eventCatalogue['order-cancelled'].example,
  refunded: eventCatalogue['payment-refunded'].example,
};

describe('the mails', () => {
  it('welcomes a new user by full name, or by username without one', () => {
    const mail = welcomeMail(examples.registered);
    expect(mail).toMatchObject({ userId: examples.registered.userId, kind: 'WELCOME', subject: 'Welcome to the shop' });
    expect(mail.body).toMatch(/^Hello Alice,\n/);
    expect(mail.body).toContain('your account alice is ready');
    expect(mail.occurredAt).toEqual(new Date(examples.registered.registeredAt));
    expect(welcomeMail({ ...examples.registered, fullName: null }).body).toMatch(/^Hello alice,\n/);
  });

  it('confirms an order with its number and total', () => {
    const mail = orderConfirmedMail(examples.confirmed);
    expect(mail).toMatchObject({ userId: examples.confirmed.userId, kind: 'ORDER_CONFIRMED', subject: 'Your order C3A7F215 is confirmed' });
    expect(mail.body).toContain('€25.98');
    expect(mail.body).toContain(`Order id: ${examples.confirmed.orderId}`);
    expect(mail.occurredAt).toEqual(new Date(examples.confirmed.confirmedAt));
  });

  it('says in words why an order was cancelled', () => {
    const mail = orderCancelledMail(examples.cancelled);
    expect(mail).toMatchObject({ kind: 'ORDER_CANCELLED', subject: 'Your order C3A7F215 was cancelled' });
    expect(mail.body).toContain('was cancelled because some of the items are no longer in stock.');
    expect(orderCancelledMail({ ...examples.cancelled, reason: 'CUSTOMER_CANCELLED' }).body).toContain('because you cancelled it.');
  });

  it('tells the refunded amount and the refund', () => {
    const mail = paymentRefundedMail(examples.refunded);
    expect(mail).toMatchObject({ kind: 'PAYMENT_REFUNDED', subject: 'Your payment for order C3A7F215 was refunded' });
    expect(mail.body).toContain(`€25.98 for your order C3A7F215 was refunded to your card (refund ${examples.refunded.gatewayRefundId})`);
    expect(mail.occurredAt).toEqual(new Date(examples.refunded.refundedAt));
  });

  it('end with the same signature, and never leave a placeholder', () => {
    for (const mail of [
      welcomeMail(examples.registered),
      orderConfirmedMail(examples.confirmed),
      orderCancelledMail(examples.cancelled),
      paymentRefundedMail(examples.refunded),
    ]) {
      expect(mail.body.endsWith('\n\n-- \nThe shop\n')).toBe(true);
      expect(mail.body + mail.subject).not.toMatch(/undefined|null|NaN|\[object/);
    }
  });
});

describe('cancel reasons in words', () => {
  const reasons: CancelReason[] = [
    'PAYMENT_DECLINED',
    'OUT_OF_STOCK',
    'PAYMENT_ERROR',
    'TIMED_OUT',
    'CUSTOMER_CANCELLED',
    'ADMIN_CANCELLED',
  ];

  it('has words for every reason of the schema, each different, none shouting the code', () => {
    expect(Object.keys(cancelReasonWords).sort()).toEqual([...reasons].sort());
    const words = Object.values(cancelReasonWords);
    expect(new Set(words).size).toBe(words.length);
    for (const text of words) expect(text).toMatch(/^[a-z][a-z ]+$/);
  });

  it.each(reasons)('%s reads as a sentence in the cancellation mail', (reason) => {
    expect(orderCancelledMail({ ...examples.cancelled, reason }).body).toContain(`because ${cancelReasonWords[reason]}.`);
  });
});

describe('formatting', () => {
  it('writes amounts in the currency of the order, and plainly for a currency Intl does not know', () => {
    expect(formatAmount(2598, 'EUR')).toBe('€25.98');
    expect(formatAmount(100, 'USD')).toBe('$1.00');
    expect(formatAmount(2598, 'EURO')).toBe('25.98 EURO');
  });

  it("reads the amount in the currency's own minor units: none for the yen, thousandths for the Bahraini dinar", () => {
    expect(formatAmount(2598, 'JPY')).toBe('¥2,598');
    expect(formatAmount(2598, 'BHD')).toBe('BHD\u00a02.598'); // Intl's no-break space
  });

  it('names an order by the first block of its id, and a mail by its event id', () => {
    expect(orderNumber('c3a7f215-9d84-4b6e-a1f0-5e2d7b93c864')).toBe('C3A7F215');
    expect(messageIdOf('9e45b1c7-2f63-4a8d-b0e9-71c5d3a28f46')).toBe('<9e45b1c7-2f63-4a8d-b0e9-71c5d3a28f46@shop.local>');
  });
});
