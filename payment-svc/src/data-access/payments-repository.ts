import { outboxInsertWhere, PerTransaction, type OutboxRow, type Sql, type Transaction } from '@shop/kit';
import type { PaymentRow, PaymentStatus } from '../domain/payments.ts';

type Db = Sql | Transaction;

const columns = (sql: Db) => sql`
  id, order_id, user_id, amount_cents, currency, status, failure_reason, gateway_charge_id, gateway_refund_id,
  payment_token, attempts, next_attempt_at, last_error, charge_unanswered_at, created_at, updated_at`;

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
 * Each order's payment, pending and claimed until `claimedUntil` by the process whose
 * transaction this is (see claimDueCharges: it charges them once the transaction commits),
 * unless the order has a payment already; and whether the order was cancelled before. One
 * statement for them all (a consumed batch's orders), also when an order comes twice (its
 * first is inserted); insertChargePending then answers from what it returned. The orders'
 * locks must be held.
 */
export async function insertChargesPending(tx: Transaction, charges: ChargeToInsert[], claimedUntil: Date): Promise<void> {
  const ahead = insertedAhead.of(tx);
  const fresh = [...new Map(charges.filter((charge) => !ahead.has(charge.payment.orderId)).map((c) => [c.payment.orderId, c])).values()];
  if (fresh.length === 0) return;
  const values = tx(
    fresh.map(({ payment, paymentToken }) => ({
      ...payment,
      status: 'CHARGE_PENDING',
      paymentToken,
      nextAttemptAt: claimedUntil,
      chargeUnansweredAt: claimedUntil,
    })),
    'id',
    'orderId',
    'userId',
    'amountCents',
    'currency',
    'status',
    'paymentToken',
    'nextAttemptAt',
    'chargeUnansweredAt',
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
 * The order's payment, pending and claimed (see insertChargesPending), unless the order has a
 * payment already (undefined then): inserted now, or taken from what the transaction inserted
 * ahead, once.
 */
export async function insertChargePending(
  tx: Transaction,
  payment: NewPayment,
  paymentToken: string,
  claimedUntil: Date,
): Promise<PendingCharge | undefined> {
  const ahead = insertedAhead.of(tx);
  if (!ahead.has(payment.orderId)) await insertChargesPending(tx, [{ payment, paymentToken }], claimedUntil);
  const inserted = ahead.get(payment.orderId);
  ahead.set(payment.orderId, undefined);
  return inserted;
}

/** A charge's definite outcome: charged (with the gateway's charge id), or failed (with its reason). */
export type ChargeOutcome =
  { paymentId: string; status: 'SUCCEEDED'; chargeId: string } | { paymentId: string; status: 'FAILED'; reason: string; detail: string };

/** A claimed charge's answer, to record if its payment is still as claimed (pending, `claimedAttempts` tries recorded). */
export type ClaimAnswer =
  /** A definite outcome, with the event announcing it. */
  | { paymentId: string; claimedAttempts: number; outcome: ChargeOutcome; announcement: OutboxRow }
  /** No definite answer: the charge is asked again at `nextAttemptAt`. */
  | { paymentId: string; claimedAttempts: number; unanswered: { nextAttemptAt: Date; error: string } };

/**
 * Records claimed charges' answers in one statement, without a transaction around it. An
 * answer is written only if its payment is still as claimed, and an outcome's event only with
 * it: a payment a cancellation is settling, or whose other claim's answer was recorded first,
 * is left alone (the gateway answers the same key the same way, so nothing is lost), except
 * that a settlement waiting for the claim to lapse learns that its calls have ended, and waits
 * one gateway timeout for a charge to land from then instead. A success keeps no failure
 * reason, a failure no charge id; either ends the claim (charge_unanswered_at). One answer
 * per payment.
 */
export async function saveClaimAnswers(sql: Db, answers: ClaimAnswer[]): Promise<void> {
  const definite = answers.flatMap((answer) => ('outcome' in answer ? [answer] : []));
  const open = answers.flatMap((answer) => ('unanswered' in answer ? [answer] : []));
  const charged = (outcome: ChargeOutcome) => (outcome.status === 'SUCCEEDED' ? outcome : undefined);
  const failed = (outcome: ChargeOutcome) => (outcome.status === 'FAILED' ? outcome : undefined);
  await sql`
    with answered as (
      update payments p set
        status = a.status, gateway_charge_id = a.charge_id, failure_reason = a.reason, payment_token = null,
        attempts = p.attempts + 1, next_attempt_at = null, last_error = a.detail, charge_unanswered_at = null, updated_at = now()
      from unnest(
        ${definite.map((answer) => answer.paymentId)}::uuid[], ${definite.map((answer) => answer.claimedAttempts)}::int[],
        ${definite.map(({ outcome }) => outcome.status)}::text[], ${definite.map(({ outcome }) => charged(outcome)?.chargeId ?? null)}::text[],
        ${definite.map(({ outcome }) => failed(outcome)?.reason ?? null)}::text[],
        ${definite.map(({ outcome }) => failed(outcome)?.detail ?? null)}::text[]
      ) as a (id, attempts, status, charge_id, reason, detail)
      where p.id = a.id and p.status = 'CHARGE_PENDING' and p.attempts = a.attempts
      returning p.order_id),
    unanswered as (
      update payments p set
        attempts = p.attempts + 1, next_attempt_at = a.next_attempt_at, last_error = a.error,
        charge_unanswered_at = clock_timestamp(), updated_at = now()
      from unnest(
        ${open.map((answer) => answer.paymentId)}::uuid[], ${open.map((answer) => answer.claimedAttempts)}::int[],
        ${open.map(({ unanswered }) => unanswered.nextAttemptAt.toISOString())}::timestamptz[],
        ${open.map(({ unanswered }) => unanswered.error)}::text[]
      ) as a (id, attempts, next_attempt_at, error)
      where p.id = a.id and p.status = 'CHARGE_PENDING' and p.attempts = a.attempts),
    claim_ended as (
      update payments set charge_unanswered_at = clock_timestamp(), next_attempt_at = least(next_attempt_at, now()), updated_at = now()
      where id = any(${answers.map((answer) => answer.paymentId)}::uuid[])
        and status = 'REFUND_PENDING' and charge_unanswered_at > clock_timestamp())
    ${outboxInsertWhere(
      sql,
      definite.map((answer) => answer.announcement),
      sql`select order_id::text from answered`,
    )}`;
}

/**
 * The order was cancelled: whatever the payment was, its money is now to be settled, tries
 * counted afresh. `neverAsked`: no charge of it was ever asked of the gateway (its claim was
 * not committed), so none can still land.
 */
export async function beginSettlement(tx: Transaction, paymentId: string, { neverAsked = false } = {}): Promise<PaymentRow> {
  const [row] = await tx<PaymentRow[]>`
    update payments set status = 'REFUND_PENDING', payment_token = null, attempts = 0, next_attempt_at = now(), last_error = null,
                        charge_unanswered_at = case when ${neverAsked} then null else charge_unanswered_at end, updated_at = now()
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

/**
 * Claims up to `limit` due pending charges for this process to ask the gateway about: each is
 * claimed until `claimedUntil`, so no one else asks meanwhile (another instance, or this one's
 * next claim), and a process that dies with calls in flight leaves them due again then; and,
 * until then, a settlement that finds no charge in the ledger knows one may still land
 * (charge_unanswered_at). Rows another transaction holds are skipped, not waited for. (A new
 * payment is inserted claimed by the consumer's transaction: insertChargesPending.)
 */
export async function claimDueCharges(sql: Db, limit: number, claimedUntil: Date): Promise<PaymentRow[]> {
  return sql<PaymentRow[]>`
    update payments set next_attempt_at = ${claimedUntil}, charge_unanswered_at = ${claimedUntil}, updated_at = now()
    where id in (
      select id from payments
      where status = 'CHARGE_PENDING' and next_attempt_at <= now()
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
    returning ${columns(sql)}`;
}

/** Orders whose pending refund (a cancelled order's settlement) is due, oldest due first; read without locks, locked one by one after. */
export async function dueSettlements(sql: Sql, limit: number): Promise<string[]> {
  const rows = await sql<{ orderId: string }[]>`
    select order_id from payments
    where status = 'REFUND_PENDING' and next_attempt_at <= now()
    order by next_attempt_at
    limit ${limit}`;
  return rows.map((row) => row.orderId);
}

/** The order's payment if its settlement is still pending and due, locked; another instance that holds it is skipped. */
export async function lockDueSettlement(tx: Transaction, orderId: string): Promise<PaymentRow | undefined> {
  const [row] = await tx<PaymentRow[]>`
    select ${columns(tx)} from payments
    where order_id = ${orderId} and status = 'REFUND_PENDING' and next_attempt_at <= now()
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
