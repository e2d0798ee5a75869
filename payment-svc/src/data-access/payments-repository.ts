import { aggregateLocks, outboxClause, PerTransaction, StagedWrites, type OutboxRow, type Sql, type Transaction } from '@shop/kit';
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
        next_attempt_at = null, last_error = o.detail, charge_unanswered_at = null, updated_at = now()
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
    update payments set attempts = attempts + 1, next_attempt_at = ${nextAttemptAt}, last_error = ${error},
                        charge_unanswered_at = clock_timestamp(), updated_at = now()
    where id = ${paymentId}
    returning ${columns(tx)}`;
  return row!;
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

/** What a claimed charge's payment has become by the time its answer is recorded. */
export type ClaimState = 'claimed' | 'settling' | 'other';

/**
 * What charges claimed by this process (claimDueCharges, insertChargesPending) have become,
 * locked with their orders: still as claimed (pending, no try recorded since), being settled
 * (the order was cancelled meanwhile; what landed is not known yet), or otherwise changed
 * (another claim's answer was recorded). Its order's lock first, as every writer of a payment
 * takes it.
 */
export async function lockClaimed(tx: Transaction, claimed: PaymentRow[]): Promise<Map<string, ClaimState>> {
  const rows = await tx<{ id: string; state: ClaimState }[]>`
    with locked as (${aggregateLocks(
      tx,
      claimed.map((payment) => payment.orderId),
    )})
    select p.id, case when p.status = 'CHARGE_PENDING' and p.attempts = c.attempts then 'claimed'
                      when p.status = 'REFUND_PENDING' and p.gateway_charge_id is null then 'settling'
                      else 'other' end as state
    from payments p
    join unnest(${claimed.map((payment) => payment.id)}::uuid[], ${claimed.map((payment) => payment.attempts)}::int[]) as c (id, attempts)
      on p.id = c.id
    where (select count(*) from locked) > 0
    for update of p`;
  return new Map(rows.map((row) => [row.id, row.state]));
}

/**
 * The calls of a claim on payments now being settled have ended: a charge can no longer land
 * from them later than a gateway timeout from now, so the settlement waiting for the claim to
 * lapse is due again now, and knows that much.
 */
export async function claimsEnded(tx: Transaction, paymentIds: string[]): Promise<void> {
  if (paymentIds.length === 0) return;
  await tx`
    update payments set charge_unanswered_at = clock_timestamp(), next_attempt_at = least(next_attempt_at, now()), updated_at = now()
    where id = any(${paymentIds}::uuid[]) and status = 'REFUND_PENDING' and charge_unanswered_at > clock_timestamp()`;
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
