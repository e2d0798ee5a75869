import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  backoffDelay,
  lockAggregate,
  publishWith,
  writeOutboxEvent,
  type AuthenticatedUser,
  type BatchLocker,
  type EventCodec,
  type OrderCancelled,
  type OrderPlaced,
  type Sql,
  type Transaction,
} from '@shop/kit';
import type { ChargeRequest, GatewayClient } from '../data-access/gateway-client.ts';
import {
  beginSettlement,
  findPaymentOfOrder,
  insertChargePending,
  insertChargesPending,
  markRefunded,
  markSettledUncharged,
  recordCancellation,
  settlementUnfinished,
  type ClaimAnswer,
  type NewPayment,
} from '../data-access/payments-repository.ts';
import { paymentFailure, paymentRefunded, paymentSuccess } from './events.ts';
import {
  ledgerVerdict,
  needsSettlement,
  refundVerdict,
  settlementStep,
  type ChargeVerdict,
  type LedgerVerdict,
} from './gateway-answers.ts';
import type { ClaimedCharges } from './charging.ts';
import { paymentProblems } from './problems.ts';

/**
 * CHARGE_PENDING → SUCCEEDED | FAILED; once the order is cancelled, SUCCEEDED, CHARGE_PENDING or
 * FAILED (PAYMENT_ERROR) → REFUND_PENDING → REFUNDED | FAILED (nothing was charged) | REFUND_FAILED.
 */
export type PaymentStatus = 'CHARGE_PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUND_PENDING' | 'REFUNDED' | 'REFUND_FAILED';

/** An order's payment as stored: at most one per order. */
export interface PaymentRow {
  id: string;
  orderId: string;
  userId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  /** CARD_DECLINED, PAYMENT_ERROR, or ORDER_CANCELLED (cancelled before anything was charged). */
  failureReason: string | null;
  gatewayChargeId: string | null;
  gatewayRefundId: string | null;
  /** Kept only while the charge may be asked again (CHARGE_PENDING). */
  paymentToken: string | null;
  /** Tries of the charge, then of the refund (an event handler's quick burst is one try). */
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  /** When the last charge request without a definite answer ended; null once an answer was definite. */
  chargeUnansweredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface RetrySettings {
  /** Gateway calls an event handler makes at most before it leaves the rest to the retry job. */
  quickAttempts: number;
  /** Delay between those calls. */
  quickBackoff: { baseMs: number; maxMs: number };
  /** One call's timeout: also the longest a quick burst goes on, and how long a charge request may take to land. */
  callTimeoutMs: number;
  /** Delay before the retry job tries a pending payment again, by its tries so far. */
  jobBackoff: { baseMs: number; maxMs: number };
}

export interface PaymentsDependencies {
  codec: EventCodec;
  gateway: GatewayClient;
  retry: RetrySettings;
}

// Idempotency keys derived from the order: whatever is retried or redelivered, the gateway
// sees the same key and charges (or refunds) at most once.
export const chargeKey = (orderId: string) => `charge:${orderId}`;
export const refundKey = (orderId: string) => `refund:${orderId}`;

/** The order's charge, the same in every try: the key makes the gateway charge it once. */
export const chargeRequest = (payment: PaymentRow, token: string): ChargeRequest => ({
  amountCents: payment.amountCents,
  currency: payment.currency,
  token,
  reference: payment.orderId,
  idempotencyKey: chargeKey(payment.orderId),
});

/** When the next try of a payment with `attempts` tries behind it is due. */
export const nextAttemptAt = (retry: RetrySettings, attempts: number, now = new Date()): Date =>
  new Date(now.getTime() + backoffDelay(Math.max(1, attempts), retry.jobBackoff));

/**
 * Asks `calls` times at most while the answer is not definite, and starts no call once a
 * call's timeout has passed in all: a gateway that does not answer costs one timeout, not
 * several, while a quick 503 is worth asking again at once. A burst therefore ends within two
 * timeouts of its start (burstBoundMs), which is how long a claimed charge stays claimed.
 */
export async function askUntilDefinite<V extends { kind: string }>(retry: RetrySettings, calls: number, ask: () => Promise<V>): Promise<V> {
  const started = Date.now();
  for (let call = 1; ; call++) {
    const verdict = await ask();
    const spent = () => Date.now() - started >= retry.callTimeoutMs;
    if (verdict.kind !== 'unknown' || call >= calls || spent()) return verdict;
    await sleep(backoffDelay(call, retry.quickBackoff));
    if (spent()) return verdict;
  }
}

/** The longest a burst of askUntilDefinite lasts: its last call starts within one timeout and lasts at most another. */
export const burstBoundMs = (retry: RetrySettings) => 2 * retry.callTimeoutMs;

/**
 * How long a claim on a pending charge lasts: a burst may start during its first call timeout
 * (a claimed charge waits for a free slot), and lasts two more at most.
 */
export const claimMs = (retry: RetrySettings) => 3 * retry.callTimeoutMs;

export const claimedUntil = (retry: RetrySettings, now = Date.now()) => new Date(now + claimMs(retry));

/** Whether a claimed charge may still be asked: only if its burst ends before its claim does, so nothing lands after a settlement stopped waiting. */
export const mayStillAsk = (retry: RetrySettings, claimed: { nextAttemptAt: Date | null }, now = Date.now()): boolean =>
  claimed.nextAttemptAt !== null && now + burstBoundMs(retry) <= claimed.nextAttemptAt.getTime();

/**
 * What a claimed charge's verdict writes: its outcome with the event announcing it (encoded
 * here, in the charge's trace), or, without a definite answer, when to ask again.
 */
export async function claimAnswer(
  { codec, retry }: PaymentsDependencies,
  claimed: PaymentRow,
  verdict: ChargeVerdict,
): Promise<ClaimAnswer> {
  const now = new Date();
  const claim = { paymentId: claimed.id, claimedAttempts: claimed.attempts };
  const announced = (event: Parameters<typeof publishWith>[1]) => publishWith(codec, event, async (row) => row);
  switch (verdict.kind) {
    case 'charged':
      return {
        ...claim,
        outcome: { paymentId: claimed.id, status: 'SUCCEEDED', chargeId: verdict.chargeId },
        announcement: await announced(paymentSuccess(claimed, verdict.chargeId, now)),
      };
    case 'declined':
    case 'failed': {
      const reason = verdict.kind === 'declined' ? 'CARD_DECLINED' : 'PAYMENT_ERROR';
      return {
        ...claim,
        outcome: { paymentId: claimed.id, status: 'FAILED', reason, detail: verdict.detail },
        announcement: await announced(paymentFailure(claimed, reason, verdict.detail, now)),
      };
    }
    case 'unknown':
      return { ...claim, unanswered: { nextAttemptAt: nextAttemptAt(retry, claimed.attempts + 1, now), error: verdict.detail } };
  }
}

const newPayment = (order: OrderPlaced): NewPayment => ({
  id: randomUUID(),
  orderId: order.orderId,
  userId: order.userId,
  amountCents: order.totalCents,
  currency: order.currency,
});

/**
 * Before a batch of order events: its orders' payments inserted pending in one statement, for
 * each order-placed handler to take its own instead of inserting it with a round trip. The
 * consumer locks the batch's orders first.
 */
export const insertPendingPaymentsOfBatch =
  (retry: RetrySettings): BatchLocker =>
  async (tx, events) => {
    const orders = events.flatMap((event) => (event.topic === 'order-placed' ? [event.value as OrderPlaced] : []));
    await insertChargesPending(
      tx,
      orders.map((order) => ({ payment: newPayment(order), paymentToken: order.paymentToken })),
      claimedUntil(retry),
    );
  };

/**
 * order-placed: the order's payment, CHARGE_PENDING and claimed by this process, in the
 * consumer's transaction; once that has committed, the charge dispatcher (charging.ts) asks
 * the gateway. A database transaction is never held open on the gateway, and the partition
 * moves on while charges are in flight. What is committed pending is charged whatever happens
 * next: a claim lapses, and a pending charge is claimed again from the table, also after a
 * crash; the idempotency key makes asking again harmless.
 */
export async function chargeOrder(
  tx: Transaction,
  dependencies: PaymentsDependencies,
  order: OrderPlaced,
  charges: ClaimedCharges,
): Promise<void> {
  // One order's placement, cancellation and charge are applied one after the other, never interleaved.
  await lockAggregate(tx, order.orderId);
  const inserted = await insertChargePending(tx, newPayment(order), order.paymentToken, claimedUntil(dependencies.retry));
  if (!inserted) return; // applied before
  if (inserted.cancelled) {
    // Cancelled before this placement was applied here: settled at once, and never asked of
    // the gateway, so no charge can land under the order's key. The settlement asks the
    // ledger all the same (one call, in a rare race), as a release that charged inside this
    // transaction needed.
    await settleNow(tx, dependencies, inserted.pending.id, { neverAsked: true });
    return;
  }
  charges.claimed(inserted.pending);
}

/** The gateway refused a refund definitely: the money stays with the shop until someone looks. */
export class RefundRefused extends Error {
  override name = 'RefundRefused';
  readonly chargeId: string;

  constructor(chargeId: string, message: string) {
    super(message);
    this.chargeId = chargeId;
  }
}

async function readLedger({ gateway, retry }: PaymentsDependencies, orderId: string, calls: number): Promise<LedgerVerdict> {
  return askUntilDefinite(retry, calls, async () => ledgerVerdict(await gateway.ledger(orderId), chargeKey(orderId)));
}

/**
 * One try at settling a cancelled order's money (the payment is REFUND_PENDING, its order's
 * lock held), with at most `calls` calls per question to the gateway. If the charge is not
 * known, the ledger says whether one landed under the order's key; a landed charge is refunded
 * under the order's refund key, also when the ledger shows a refund already (a crash between
 * the refund and the commit): the gateway answers with that refund, so payment-refunded is
 * always written. Without a definite answer, the next try is scheduled. A definite refusal is
 * returned, for the caller to decide: an event is dead-lettered, the retry job records it.
 */
export async function settlePayment(
  tx: Transaction,
  dependencies: PaymentsDependencies,
  payment: PaymentRow,
  calls: number,
): Promise<{ refused: RefundRefused } | undefined> {
  const { retry } = dependencies;
  const now = new Date();
  const later = nextAttemptAt(retry, payment.attempts + 1, now);
  let chargeId = payment.gatewayChargeId;
  if (!chargeId) {
    const step = settlementStep(
      await readLedger(dependencies, payment.orderId, calls),
      payment.chargeUnansweredAt,
      now,
      retry.callTimeoutMs,
    );
    if (step.do === 'close') {
      await markSettledUncharged(tx, payment.id);
      return undefined;
    }
    if (step.do === 'wait' || step.do === 'retry') {
      await settlementUnfinished(tx, payment.id, null, step.do === 'wait' ? step.until : later, step.detail);
      return undefined;
    }
    chargeId = step.chargeId;
  }
  return refundCharge(tx, dependencies, payment, chargeId, calls, later);
}

/** Refunds the order's charge under its refund key; see settlePayment. */
async function refundCharge(
  tx: Transaction,
  dependencies: PaymentsDependencies,
  payment: PaymentRow,
  chargeId: string,
  calls: number,
  later: Date,
): Promise<{ refused: RefundRefused } | undefined> {
  const { codec, gateway, retry } = dependencies;
  const verdict = await askUntilDefinite(retry, calls, async () =>
    refundVerdict(await gateway.refund(chargeId, refundKey(payment.orderId))),
  );
  if (verdict.kind === 'refused') {
    const detail = `the gateway refused the refund of ${chargeId} (order ${payment.orderId}): ${verdict.detail}`;
    return { refused: new RefundRefused(chargeId, detail) };
  }
  let refundId = verdict.kind === 'refunded' ? verdict.refundId : undefined;
  let unfinished = verdict.kind === 'refunded' ? '' : verdict.detail;
  if (verdict.kind === 'already-refunded') {
    // Refunded under another key (by hand, say): the money is back; the ledger names the refund.
    const ledger = await readLedger(dependencies, payment.orderId, calls);
    if (ledger.kind === 'charged' && ledger.chargeId === chargeId) refundId = ledger.refundId;
    unfinished = `${verdict.detail}; ${ledger.kind === 'unknown' ? ledger.detail : 'the ledger shows no refund of it yet'}`;
  }
  if (!refundId) {
    await settlementUnfinished(tx, payment.id, chargeId, later, unfinished);
    return undefined;
  }
  const refunded = await markRefunded(tx, payment.id, chargeId, refundId);
  await writeOutboxEvent(tx, codec, paymentRefunded(refunded, chargeId, refundId, refunded.updatedAt));
  return undefined;
}

/**
 * order-cancelled: give back whatever the order was charged, exactly once. A successful charge
 * is refunded; a charge still pending is given up and the ledger asked whether an earlier try
 * landed, as it is after PAYMENT_ERROR; a landed charge is refunded. What the gateway does not
 * answer definitely now is left REFUND_PENDING to the retry job, so the partition moves on. A
 * definite refusal of the refund fails the event: it is dead-lettered, with the reason, once
 * the consumer's attempts are spent.
 */
export async function settleCancelledOrder(
  tx: Transaction,
  dependencies: PaymentsDependencies,
  cancellation: OrderCancelled,
): Promise<void> {
  await lockAggregate(tx, cancellation.orderId);
  await recordCancellation(tx, cancellation.orderId, cancellation.reason);
  const payment = await findPaymentOfOrder(tx, cancellation.orderId);
  // Not placed here yet: chargeOrder will see the cancellation. Already settling: the job has it.
  if (!payment || !needsSettlement(payment)) return;
  await settleNow(tx, dependencies, payment.id);
}

/** Starts settling a cancelled order's payment and tries once; a definite refusal fails the event. */
async function settleNow(
  tx: Transaction,
  dependencies: PaymentsDependencies,
  paymentId: string,
  options?: { neverAsked: boolean },
): Promise<void> {
  const settling = await beginSettlement(tx, paymentId, options);
  const outcome = await settlePayment(tx, dependencies, settling, dependencies.retry.quickAttempts);
  if (outcome) throw outcome.refused;
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
