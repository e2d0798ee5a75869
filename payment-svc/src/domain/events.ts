// The events payment-svc writes to its outbox, one typed constructor per topic.
import { outboxEvent, type OrderPlaced, type PaymentFailureReason } from '@shop/kit';
import type { PaymentRow } from './payments.ts';

export const paymentSuccess = (paymentId: string, order: OrderPlaced, gatewayChargeId: string, processedAt: number) =>
  outboxEvent('payment-success', order.orderId, {
    paymentId,
    orderId: order.orderId,
    userId: order.userId,
    amountCents: order.totalCents,
    currency: order.currency,
    gatewayChargeId,
    processedAt,
  });

export const paymentFailure = (paymentId: string, order: OrderPlaced, reason: PaymentFailureReason, detail: string, processedAt: number) =>
  outboxEvent('payment-failure', order.orderId, {
    paymentId,
    orderId: order.orderId,
    userId: order.userId,
    amountCents: order.totalCents,
    currency: order.currency,
    reason,
    detail,
    processedAt,
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
