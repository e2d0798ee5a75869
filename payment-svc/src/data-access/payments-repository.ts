import type { Sql, Transaction } from '@shop/kit';

export type PaymentStatus = 'SUCCEEDED' | 'FAILED' | 'REFUNDED';

export interface PaymentRow {
  id: string;
  orderId: string;
  userId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  failureReason: string | null;
  gatewayChargeId: string | null;
  gatewayRefundId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type Db = Sql | Transaction;

const columns = (sql: Db) => sql`
  id, order_id as "orderId", user_id as "userId", amount_cents as "amountCents", currency, status,
  failure_reason as "failureReason", gateway_charge_id as "gatewayChargeId", gateway_refund_id as "gatewayRefundId",
  created_at as "createdAt", updated_at as "updatedAt"`;

export async function findPaymentOfOrder(sql: Db, orderId: string): Promise<PaymentRow | undefined> {
  const [row] = await sql<PaymentRow[]>`select ${columns(sql)} from payments where order_id = ${orderId}`;
  return row;
}

export async function insertPayment(tx: Transaction, payment: Omit<PaymentRow, 'createdAt' | 'updatedAt' | 'gatewayRefundId'>): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    insert into payments (id, order_id, user_id, amount_cents, currency, status, failure_reason, gateway_charge_id)
    values (${payment.id}, ${payment.orderId}, ${payment.userId}, ${payment.amountCents}, ${payment.currency}, ${payment.status},
            ${payment.failureReason}, ${payment.gatewayChargeId})
    returning ${columns(tx)}`;
  return row!;
}

export async function markRefunded(tx: Transaction, paymentId: string, chargeId: string, refundId: string): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    update payments set status = 'REFUNDED', gateway_charge_id = ${chargeId}, gateway_refund_id = ${refundId}, updated_at = now()
    where id = ${paymentId}
    returning ${columns(tx)}`;
  return row!;
}

export async function recordCancellation(tx: Transaction, orderId: string, reason: string): Promise<void> {
  await tx`insert into cancelled_orders (order_id, reason) values (${orderId}, ${reason}) on conflict (order_id) do nothing`;
}

export async function isCancelled(tx: Transaction, orderId: string): Promise<boolean> {
  return (await tx`select 1 from cancelled_orders where order_id = ${orderId}`).length > 0;
}
