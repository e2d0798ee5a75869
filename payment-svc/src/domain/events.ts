// The events payment-svc writes to its outbox, one typed constructor per topic.
import { outboxEvent, type PaymentFailureReason } from '@shop/kit';
import type { PaymentRow } from './payments.ts';

export const paymentSuccess = (payment: PaymentRow, gatewayChargeId: string, processedAt: Date) =>
  outboxEvent('payment-success', payment.orderId, {
    paymentId: payment.id,
    orderId: payment.orderId,
    userId: payment.userId,
    amountCents: payment.amountCents,
    currency: payment.currency,
    gatewayChargeId,
    processedAt: processedAt.getTime(),
  });

export const paymentFailure = (payment: PaymentRow, reason: PaymentFailureReason, detail: string, processedAt: Date) =>
  outboxEvent('payment-failure', payment.orderId, {
    paymentId: payment.id,
    orderId: payment.orderId,
    userId: payment.userId,
    amountCents: payment.amountCents,
    currency: payment.currency,
    reason,
    detail,
    processedAt: processedAt.getTime(),
  });

export const paymentRefunded = (payment: PaymentRow, gatewayChargeId: string, gatewayRefundId: string, refundedAt: Date) =>
  outboxEvent('payment-refunded', payment.orderId, {
    paymentId: payment.id,
    orderId: payment.orderId,
    userId: payment.userId,
    amountCents: payment.amountCents,
    currency: payment.currency,
    gatewayChargeId,
    gatewayRefundId,
    refundedAt: refundedAt.getTime(),
  });
