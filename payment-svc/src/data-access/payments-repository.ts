import type { Sql, Transaction } from '@shop/kit';
import type { PaymentRow } from '../domain/payments.ts';

type Db = Sql | Transaction;

const columns = (sql: Db) => sql`
  id, order_id, user_id, amount_cents, currency, status, failure_reason, gateway_charge_id, gateway_refund_id, created_at, updated_at`;

export async function findPaymentOfOrder(sql: Db, orderId: string): Promise<PaymentRow | undefined> {
  const [row] = await sql<PaymentRow[]>`select ${columns(sql)} from payments where order_id = ${orderId}`;
  return row;
}

export async function insertPayment(
  tx: Transaction,
  payment: Omit<PaymentRow, 'createdAt' | 'updatedAt' | 'gatewayRefundId'>,
): Promise<PaymentRow> {
  const values = tx(payment, 'id', 'orderId', 'userId', 'amountCents', 'currency', 'status', 'failureReason', 'gatewayChargeId');
  const [row] = await tx<PaymentRow[]>`insert into payments ${values} returning ${columns(tx)}`;
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
  await tx`insert into cancelled_orders ${tx({ orderId, reason }, 'orderId', 'reason')} on conflict (order_id) do nothing`;
}

export async function isCancelled(tx: Transaction, orderId: string): Promise<boolean> {
  return (await tx`select 1 from cancelled_orders where order_id = ${orderId}`).length > 0;
}
