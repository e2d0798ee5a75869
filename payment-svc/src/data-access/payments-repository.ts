import { outboxClause, PerTransaction, StagedWrites, type OutboxRow, type Sql, type Transaction } from '@shop/kit';
import type { PaymentRow, PaymentStatus } from '../domain/payments.ts';

type Db = Sql | Transaction;

const columns = (sql: Db) => sql`
  id, order_id, user_id, amount_cents, currency, status, failure_reason, gateway_charge_id, gateway_refund_id,
  payment_token, attempts, next_attempt_at, last_error, created_at, updated_at`;

/** The statuses the retry job works on. */
const PENDING: PaymentStatus[] = ['CHARGE_PENDING', 'REFUND_PENDING'];

export async function findPaymentOfOrder(sql: Db, orderId: string): Promise<PaymentRow | undefined> {
  const [row] = await sql<PaymentRow[]>`select ${columns(sql)} from payments where order_id = ${orderId}`;
  return row;
}

export type NewPayment = Pick<PaymentRow, 'id' | 'orderId' | 'userId' | 'amountCents' | 'currency'>;

/** A payment inserted pending, and whether its order was cancelled before. */
export interface PendingCharge {
  pending: PaymentRow;
  cancelled: boolean;
}

/** A new payment to insert pending, with the card token its charge uses. */
export interface ChargeToInsert {
  payment: NewPayment;
  paymentToken: string;
}

/**
 * The pending payments a transaction inserted ahead of its handlers (insertChargesPending), by
 * order: undefined for an order that had one already, or whose handler has taken its own.
 */
const insertedAhead = new PerTransaction(() => new Map<string, PendingCharge | undefined>());

/**
 * Each order's payment about to be charged, pending until the gateway's answer says otherwise
 * in the same transaction, unless the order has a payment already; and whether the order was
 * cancelled before. One statement for them all (a consumed batch's orders), also when an order
 * comes twice (its first is inserted); insertChargePending then answers from what it returned.
 * The orders' locks must be held.
 */
export async function insertChargesPending(tx: Transaction, charges: ChargeToInsert[]): Promise<void> {
  const ahead = insertedAhead.of(tx);
  const fresh = [...new Map(charges.filter((charge) => !ahead.has(charge.payment.orderId)).map((c) => [c.payment.orderId, c])).values()];
  if (fresh.length === 0) return;
  const values = tx(
    fresh.map(({ payment, paymentToken }) => ({ ...payment, status: 'CHARGE_PENDING', paymentToken, nextAttemptAt: new Date() })),
    'id',
    'orderId',
    'userId',
    'amountCents',
    'currency',
    'status',
    'paymentToken',
    'nextAttemptAt',
  );
  const rows = await tx<(PaymentRow & { cancelled: boolean })[]>`
    with pending as (
      insert into payments ${values}
      on conflict (order_id) do nothing
      returning ${columns(tx)})
    select pending.*, exists (select 1 from cancelled_orders c where c.order_id = pending.order_id) as cancelled
    from pending`;
  for (const { payment } of fresh) ahead.set(payment.orderId, undefined);
  for (const { cancelled, ...pending } of rows) ahead.set(pending.orderId, { pending, cancelled });
}

/**
 * The order's payment about to be charged (see insertChargesPending), unless the order has a
 * payment already (undefined then): inserted now, or taken from what the transaction inserted
 * ahead, once.
 */
export async function insertChargePending(tx: Transaction, payment: NewPayment, paymentToken: string): Promise<PendingCharge | undefined> {
  const ahead = insertedAhead.of(tx);
  if (!ahead.has(payment.orderId)) await insertChargesPending(tx, [{ payment, paymentToken }]);
  const inserted = ahead.get(payment.orderId);
  ahead.set(payment.orderId, undefined);
  return inserted;
}

/** A charge's definite outcome: charged (with the gateway's charge id), or failed (with its reason). */
export type ChargeOutcome =
  { paymentId: string; status: 'SUCCEEDED'; chargeId: string } | { paymentId: string; status: 'FAILED'; reason: string; detail: string };

/** The charge outcomes a transaction decided and has not written yet, with the outbox rows announcing them. */
const stagedOutcomes = new StagedWrites<ChargeOutcome>();

/**
 * Stages a pending charge's outcome and the event that announces it (when there is one), for
 * saveStagedChargeOutcomes to write with the transaction's others in one statement: a
 * consumed batch's charges cost one round trip between them instead of one each.
 */
export function stageChargeOutcome(tx: Transaction, outcome: ChargeOutcome, announcement?: OutboxRow): void {
  stagedOutcomes.stage(tx, outcome, announcement ? [announcement] : []);
}

/** Writes the charge outcomes the transaction staged, and their events in the order they were staged: one statement. */
export async function saveStagedChargeOutcomes(tx: Transaction): Promise<void> {
  const staged = stagedOutcomes.take(tx);
  if (!staged) return;
  const { changes: outcomes, announcements } = staged;
  const charged = (outcome: ChargeOutcome) => (outcome.status === 'SUCCEEDED' ? outcome : undefined);
  const failed = (outcome: ChargeOutcome) => (outcome.status === 'FAILED' ? outcome : undefined);
  // A failure keeps the charge id it has (none), a success the failure reason (none).
  await tx`
    with updated as (
      update payments p set
        status = o.status, gateway_charge_id = coalesce(o.charge_id, p.gateway_charge_id),
        failure_reason = coalesce(o.reason, p.failure_reason), payment_token = null, attempts = p.attempts + 1,
        next_attempt_at = null, last_error = o.detail, updated_at = now()
      from unnest(
        ${outcomes.map((outcome) => outcome.paymentId)}::uuid[], ${outcomes.map((outcome) => outcome.status)}::text[],
        ${outcomes.map((outcome) => charged(outcome)?.chargeId ?? null)}::text[],
        ${outcomes.map((outcome) => failed(outcome)?.reason ?? null)}::text[],
        ${outcomes.map((outcome) => failed(outcome)?.detail ?? null)}::text[]
      ) as o (id, status, charge_id, reason, detail)
      where p.id = o.id)
    ${outboxClause(tx, announcements)}
    select 1`;
}

/** A charge try without a definite answer: asked again at `nextAttemptAt`. */
export async function chargeUnanswered(tx: Transaction, paymentId: string, nextAttemptAt: Date, error: string): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    update payments set attempts = attempts + 1, next_attempt_at = ${nextAttemptAt}, last_error = ${error}, updated_at = now()
    where id = ${paymentId}
    returning ${columns(tx)}`;
  return row!;
}

/** The order was cancelled: whatever the payment was, its money is now to be settled, tries counted afresh. */
export async function beginSettlement(tx: Transaction, paymentId: string): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    update payments set status = 'REFUND_PENDING', payment_token = null, attempts = 0, next_attempt_at = now(), last_error = null,
                        updated_at = now()
    where id = ${paymentId}
    returning ${columns(tx)}`;
  return row!;
}

/** A settlement try without a definite outcome; `chargeId` once the charge to refund is known. */
export async function settlementUnfinished(
  tx: Transaction,
  paymentId: string,
  chargeId: string | null,
  nextAttemptAt: Date,
  error: string,
): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    update payments set gateway_charge_id = coalesce(${chargeId}, gateway_charge_id), attempts = attempts + 1,
                        next_attempt_at = ${nextAttemptAt}, last_error = ${error}, updated_at = now()
    where id = ${paymentId}
    returning ${columns(tx)}`;
  return row!;
}

export async function markRefunded(tx: Transaction, paymentId: string, chargeId: string, refundId: string): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    update payments set status = 'REFUNDED', gateway_charge_id = ${chargeId}, gateway_refund_id = ${refundId}, attempts = attempts + 1,
                        next_attempt_at = null, last_error = null, updated_at = now()
    where id = ${paymentId}
    returning ${columns(tx)}`;
  return row!;
}

/** The ledger shows nothing to give back: the payment ends FAILED, keeping a PAYMENT_ERROR it had. */
export async function markSettledUncharged(tx: Transaction, paymentId: string): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    update payments set status = 'FAILED', failure_reason = coalesce(failure_reason, 'ORDER_CANCELLED'), attempts = attempts + 1,
                        next_attempt_at = null, last_error = null, updated_at = now()
    where id = ${paymentId}
    returning ${columns(tx)}`;
  return row!;
}

export async function markRefundFailed(tx: Transaction, paymentId: string, chargeId: string, detail: string): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    update payments set status = 'REFUND_FAILED', gateway_charge_id = ${chargeId}, attempts = attempts + 1, next_attempt_at = null,
                        last_error = ${detail}, updated_at = now()
    where id = ${paymentId}
    returning ${columns(tx)}`;
  return row!;
}

/** Orders whose pending charge or refund is due, oldest due first; read without locks, locked one by one after. */
export async function dueOrders(sql: Sql, limit: number): Promise<string[]> {
  const rows = await sql<{ orderId: string }[]>`
    select order_id from payments
    where status in ${sql(PENDING)} and next_attempt_at <= now()
    order by next_attempt_at
    limit ${limit}`;
  return rows.map((row) => row.orderId);
}

/** The order's payment if it is still pending and due, locked; another instance that holds it is skipped. */
export async function lockDuePayment(tx: Transaction, orderId: string): Promise<PaymentRow | undefined> {
  const [row] = await tx<PaymentRow[]>`
    select ${columns(tx)} from payments
    where order_id = ${orderId} and status in ${tx(PENDING)} and next_attempt_at <= now()
    for update skip locked`;
  return row;
}

/** How many payments wait in each unsettled status (for the gauge on /metrics). */
export async function countUnsettled(sql: Sql): Promise<{ status: PaymentStatus; count: number }[]> {
  return sql<{ status: PaymentStatus; count: number }[]>`
    select status, count(*)::int as count from payments
    where status in ('CHARGE_PENDING', 'REFUND_PENDING', 'REFUND_FAILED')
    group by status`;
}

export async function recordCancellation(tx: Transaction, orderId: string, reason: string): Promise<void> {
  await tx`insert into cancelled_orders ${tx({ orderId, reason }, 'orderId', 'reason')} on conflict (order_id) do nothing`;
}

export async function isCancelled(tx: Transaction, orderId: string): Promise<boolean> {
  return (await tx`select 1 from cancelled_orders where order_id = ${orderId}`).length > 0;
}
