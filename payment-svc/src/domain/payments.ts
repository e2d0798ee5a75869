import { randomUUID } from 'node:crypto';
import {
  lockAggregate,
  writeOutboxEvent,
  type AuthenticatedUser,
  type EventCodec,
  type OrderCancelled,
  type OrderPlaced,
  type Sql,
  type Transaction,
} from '@shop/kit';
import type { GatewayClient } from '../data-access/gateway-client.ts';
import { findPaymentOfOrder, insertPayment, isCancelled, markRefunded, recordCancellation } from '../data-access/payments-repository.ts';
import { paymentFailure, paymentRefunded, paymentSuccess } from './events.ts';
import { paymentProblems } from './problems.ts';

export type PaymentStatus = 'SUCCEEDED' | 'FAILED' | 'REFUNDED';

/** An order's payment as stored: at most one per order. */
export interface PaymentRow {
  id: string;
  orderId: string;
  userId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  /** CARD_DECLINED, PAYMENT_ERROR, or ORDER_CANCELLED (cancelled before it was charged). */
  failureReason: string | null;
  gatewayChargeId: string | null;
  gatewayRefundId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PaymentsDependencies {
  codec: EventCodec;
  gateway: GatewayClient;
}

// Idempotency keys derived from the order: whatever is retried or redelivered, the gateway
// sees the same key and charges (or refunds) at most once.
const chargeKey = (orderId: string) => `charge:${orderId}`;
const refundKey = (orderId: string) => `refund:${orderId}`;

/**
 * order-placed: charge the order's total and record the outcome with its event, in the
 * consumer's transaction. A crash after the gateway charged but before the commit means a
 * redelivery, which asks the gateway again with the same key and gets the same charge back.
 */
export async function chargeOrder(tx: Transaction, { codec, gateway }: PaymentsDependencies, order: OrderPlaced): Promise<void> {
  // One order's placement and cancellation are applied one after the other, never interleaved.
  await lockAggregate(tx, order.orderId);
  if (await findPaymentOfOrder(tx, order.orderId)) return;
  const base = { id: randomUUID(), orderId: order.orderId, userId: order.userId, amountCents: order.totalCents, currency: order.currency };
  if (await isCancelled(tx, order.orderId)) {
    // Cancelled before it was placed here (its stock failed first): nothing to charge.
    await insertPayment(tx, { ...base, status: 'FAILED', failureReason: 'ORDER_CANCELLED', gatewayChargeId: null });
    return;
  }
  const outcome = await gateway.charge({
    amountCents: order.totalCents,
    currency: order.currency,
    token: order.paymentToken,
    reference: order.orderId,
    idempotencyKey: chargeKey(order.orderId),
  });
  const processedAt = Date.now();
  if (outcome.kind === 'charged') {
    await insertPayment(tx, { ...base, status: 'SUCCEEDED', failureReason: null, gatewayChargeId: outcome.chargeId });
    await writeOutboxEvent(tx, codec, paymentSuccess(base.id, order, outcome.chargeId, processedAt));
    return;
  }
  const reason = outcome.kind === 'declined' ? 'CARD_DECLINED' : 'PAYMENT_ERROR';
  await insertPayment(tx, { ...base, status: 'FAILED', failureReason: reason, gatewayChargeId: null });
  await writeOutboxEvent(tx, codec, paymentFailure(base.id, order, reason, outcome.detail, processedAt));
}

async function refund(tx: Transaction, { codec, gateway }: PaymentsDependencies, payment: PaymentRow, chargeId: string): Promise<void> {
  const refundId = await gateway.refund(chargeId, refundKey(payment.orderId));
  const refunded = await markRefunded(tx, payment.id, chargeId, refundId);
  await writeOutboxEvent(tx, codec, paymentRefunded(payment, chargeId, refundId, refunded.updatedAt));
}

/**
 * order-cancelled: refund a successful charge, exactly once. A payment that ended in
 * PAYMENT_ERROR may still have been charged (the gateway took the charge, the answer was
 * lost): the gateway's ledger is asked, and such a charge is refunded too. An unreachable
 * gateway is waited out (the event is retried), never skipped.
 */
export async function refundCancelledOrder(
  tx: Transaction,
  dependencies: PaymentsDependencies,
  cancellation: OrderCancelled,
): Promise<void> {
  await lockAggregate(tx, cancellation.orderId);
  await recordCancellation(tx, cancellation.orderId, cancellation.reason);
  const payment = await findPaymentOfOrder(tx, cancellation.orderId);
  if (!payment) return; // not placed here yet: chargeOrder will see the cancellation
  if (payment.status === 'SUCCEEDED' && payment.gatewayChargeId) {
    await refund(tx, dependencies, payment, payment.gatewayChargeId);
  } else if (payment.status === 'FAILED' && payment.failureReason === 'PAYMENT_ERROR') {
    const charges = await dependencies.gateway.chargesOf(cancellation.orderId);
    const unrefunded = charges.find((charge) => charge.status === 'SUCCEEDED' && charge.refunds.length === 0);
    if (unrefunded) await refund(tx, dependencies, payment, unrefunded.id);
  }
}

/** The payments of an order, for its owner or an admin; anyone else is told there are none. */
export async function paymentsOfOrder(sql: Sql, viewer: AuthenticatedUser, orderId: string): Promise<PaymentRow[]> {
  const payment = await findPaymentOfOrder(sql, orderId);
  if (!payment) return [];
  if (payment.userId !== viewer.id && viewer.role !== 'admin') {
    throw paymentProblems.ORDER_NOT_FOUND(`There is no order ${orderId} of yours.`);
  }
  return [payment];
}
