import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  backoffDelay,
  lockAggregate,
  publishWith,
  writeOutboxEvent,
  type AuthenticatedUser,
  type BatchFinisher,
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
  chargeUnanswered,
  findPaymentOfOrder,
  insertChargePending,
  insertChargesPending,
  markRefundFailed,
  markRefunded,
  markSettledUncharged,
  recordCancellation,
  saveStagedChargeOutcomes,
  settlementUnfinished,
  stageChargeOutcome,
  type NewPayment,
} from '../data-access/payments-repository.ts';
import { paymentFailure, paymentRefunded, paymentSuccess } from './events.ts';
import {
  chargeVerdict,
  ledgerVerdict,
  needsSettlement,
  refundVerdict,
  voidVerdict,
  type ChargeVerdict,
  type LedgerVerdict,
} from './gateway-answers.ts';
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
  createdAt: Date;
  updatedAt: Date;
}

export interface RetrySettings {
  /** Gateway calls an event handler makes at most before it leaves the rest to the retry job. */
  quickAttempts: number;
  /** Delay between those calls. */
  quickBackoff: { baseMs: number; maxMs: number };
  /** One call's timeout: also the longest a quick burst goes on. */
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

/** The order's charge without its card: what a void of its key names. */
const voidRequest = (payment: PaymentRow): Omit<ChargeRequest, 'token'> => ({
  amountCents: payment.amountCents,
  currency: payment.currency,
  reference: payment.orderId,
  idempotencyKey: chargeKey(payment.orderId),
});

/** The order's charge, the same in every try: the key makes the gateway charge it once. */
export const chargeRequest = (payment: PaymentRow, token: string): ChargeRequest => ({ ...voidRequest(payment), token });

/** When the next try of a payment with `attempts` tries behind it is due. */
export const nextAttemptAt = (retry: RetrySettings, attempts: number, now = new Date()): Date =>
  new Date(now.getTime() + backoffDelay(Math.max(1, attempts), retry.jobBackoff));

/**
 * Asks `calls` times at most while the answer is not definite, and stops asking once a call's
 * timeout has passed in all: a gateway that does not answer costs the partition one timeout,
 * not several, while a quick 503 is worth asking again at once.
 */
export async function askUntilDefinite<V extends { kind: string }>(retry: RetrySettings, calls: number, ask: () => Promise<V>): Promise<V> {
  const started = Date.now();
  for (let call = 1; ; call++) {
    const verdict = await ask();
    if (verdict.kind !== 'unknown' || call >= calls || Date.now() - started >= retry.callTimeoutMs) return verdict;
    await sleep(backoffDelay(call, retry.quickBackoff));
  }
}

/**
 * Records a charge try's verdict: the outcome with its event, or (no definite answer) when to
 * ask again. The payment must be CHARGE_PENDING and its order's lock held. An outcome is
 * staged, and the transaction writes what it staged with saveStagedChargeOutcomes before it
 * commits: the consumer after its batch (saveChargeOutcomes), the retry job itself.
 */
export async function recordChargeVerdict(
  tx: Transaction,
  { codec, retry }: PaymentsDependencies,
  payment: PaymentRow,
  verdict: ChargeVerdict,
): Promise<void> {
  const now = new Date();
  switch (verdict.kind) {
    case 'charged': {
      const outcome = { paymentId: payment.id, status: 'SUCCEEDED', chargeId: verdict.chargeId } as const;
      await publishWith(codec, paymentSuccess(payment, verdict.chargeId, now), async (row) => stageChargeOutcome(tx, outcome, row));
      return;
    }
    case 'declined':
    case 'failed': {
      const reason = verdict.kind === 'declined' ? 'CARD_DECLINED' : 'PAYMENT_ERROR';
      const outcome = { paymentId: payment.id, status: 'FAILED', reason, detail: verdict.detail } as const;
      await publishWith(codec, paymentFailure(payment, reason, verdict.detail, now), async (row) => stageChargeOutcome(tx, outcome, row));
      return;
    }
    case 'unknown':
      await chargeUnanswered(tx, payment.id, nextAttemptAt(retry, payment.attempts + 1, now), verdict.detail);
  }
}

/** Writes, last in a consumed batch's transaction, the charge outcomes its order-placed events staged: one statement for the batch. */
export const saveChargeOutcomes: BatchFinisher = saveStagedChargeOutcomes;

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
 * row of each new payment is locked by its insert, as the order it belongs to is (the
 * consumer locks the batch's orders first).
 */
export const insertPendingPaymentsOfBatch: BatchLocker = async (tx, events) => {
  const orders = events.flatMap((event) => (event.topic === 'order-placed' ? [event.value as OrderPlaced] : []));
  await insertChargesPending(
    tx,
    orders.map((order) => ({ payment: newPayment(order), paymentToken: order.paymentToken })),
  );
};

/**
 * order-placed: charge the order's total and record the outcome with its event, in the
 * consumer's transaction. Without a definite answer after a quick burst of calls, the payment
 * is committed CHARGE_PENDING and the retry job asks again (same key) until there is one: the
 * partition moves on, and the charge is never given up for lack of an answer. A crash after
 * the gateway charged but before the commit means a redelivery, which asks again with the
 * same key and gets the same charge back.
 */
export async function chargeOrder(tx: Transaction, dependencies: PaymentsDependencies, order: OrderPlaced): Promise<void> {
  // One order's placement, cancellation and retries are applied one after the other, never interleaved.
  await lockAggregate(tx, order.orderId);
  const inserted = await insertChargePending(tx, newPayment(order), order.paymentToken);
  if (!inserted) return; // applied before
  const { pending, cancelled } = inserted;
  if (cancelled) {
    // Cancelled before this placement was applied here. That does not prove nothing was
    // charged: an earlier try of this same event may have charged and then been rolled back
    // (a crash, or a failed batch applied again one by one) while the cancellation went
    // through, and its request may still be on its way. Settling voids the charge key: what
    // landed first is refunded, and nothing can land after.
    await settleNow(tx, dependencies, pending.id);
    return;
  }
  const request = chargeRequest(pending, order.paymentToken);
  const verdict = await askUntilDefinite(dependencies.retry, dependencies.retry.quickAttempts, async () =>
    chargeVerdict(await dependencies.gateway.charge(request)),
  );
  await recordChargeVerdict(tx, dependencies, pending, verdict);
}

async function readLedger({ gateway, retry }: PaymentsDependencies, orderId: string, calls: number): Promise<LedgerVerdict> {
  return askUntilDefinite(retry, calls, async () => ledgerVerdict(await gateway.ledger(orderId), chargeKey(orderId)));
}

/**
 * One try at settling a cancelled order's money (the payment is REFUND_PENDING, its order's
 * lock held), with at most `calls` calls per question to the gateway. If the charge is not
 * known, the order's charge key is voided at the gateway: a charge request still on its way
 * (an earlier try's, however late) can then no longer charge, and if one got there first the
 * void answers with that charge. An empty ledger would prove nothing: a request held up in the
 * gateway could land after it was read. A landed charge is refunded
 * under the order's refund key, also when the ledger shows a refund already (a crash between
 * the refund and the commit): the gateway answers with that refund, so payment-refunded is
 * always written. Without a definite answer, the next try is scheduled. A definite refusal
 * ends the payment REFUND_FAILED, for a person: the money stays with the shop until someone
 * settles it with the processor.
 */
export async function settlePayment(
  tx: Transaction,
  dependencies: PaymentsDependencies,
  payment: PaymentRow,
  calls: number,
): Promise<void> {
  const { retry } = dependencies;
  const now = new Date();
  const later = nextAttemptAt(retry, payment.attempts + 1, now);
  let chargeId = payment.gatewayChargeId;
  if (!chargeId) {
    const request = voidRequest(payment);
    const verdict = await askUntilDefinite(retry, calls, async () =>
      voidVerdict(await dependencies.gateway.voidCharge(request), request.idempotencyKey),
    );
    if (verdict.kind === 'unknown') {
      await settlementUnfinished(tx, payment.id, null, later, verdict.detail);
      return;
    }
    if (verdict.kind !== 'charged') {
      await markSettledUncharged(tx, payment.id);
      return;
    }
    chargeId = verdict.chargeId;
  }
  await refundCharge(tx, dependencies, payment, chargeId, calls, later);
}

/** Refunds the order's charge under its refund key; see settlePayment. */
async function refundCharge(
  tx: Transaction,
  dependencies: PaymentsDependencies,
  payment: PaymentRow,
  chargeId: string,
  calls: number,
  later: Date,
): Promise<void> {
  const { codec, gateway, retry } = dependencies;
  const verdict = await askUntilDefinite(retry, calls, async () =>
    refundVerdict(await gateway.refund(chargeId, refundKey(payment.orderId))),
  );
  if (verdict.kind === 'refused') {
    // Not the event's fault, and a dead letter would roll back the cancellation this
    // transaction recorded: the retry job would then charge a cancelled order again.
    await markRefundFailed(
      tx,
      payment.id,
      chargeId,
      `the gateway refused the refund of ${chargeId} (order ${payment.orderId}): ${verdict.detail}`,
    );
    return;
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
    return;
  }
  const refunded = await markRefunded(tx, payment.id, chargeId, refundId);
  await writeOutboxEvent(tx, codec, paymentRefunded(refunded, chargeId, refundId, refunded.updatedAt));
}

/**
 * order-cancelled: give back whatever the order was charged, exactly once. A successful charge
 * is refunded; a charge still pending is given up and its key voided at the gateway, as after
 * PAYMENT_ERROR, so that no earlier try can still land; one that landed first is refunded. What the gateway does not
 * answer definitely now is left REFUND_PENDING to the retry job, so the partition moves on. A
 * definite refusal of the refund ends the payment REFUND_FAILED, as in the retry job.
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

/** Starts settling a cancelled order's payment and tries once (a burst of quick calls per question). */
async function settleNow(tx: Transaction, dependencies: PaymentsDependencies, paymentId: string): Promise<void> {
  const settling = await beginSettlement(tx, paymentId);
  await settlePayment(tx, dependencies, settling, dependencies.retry.quickAttempts);
}

/**
 * The payments of an order, for its owner or an admin; 404 for anyone else. Before there is a
 * payment this service does not know whose order it is (`order-placed` says), so everyone is
 * answered none.
 */
export async function paymentsOfOrder(sql: Sql, viewer: AuthenticatedUser, orderId: string): Promise<PaymentRow[]> {
  const payment = await findPaymentOfOrder(sql, orderId);
  if (!payment) return [];
  if (payment.userId !== viewer.id && viewer.role !== 'admin') {
    throw paymentProblems.ORDER_NOT_FOUND(`There is no order ${orderId} of yours.`);
  }
  return [payment];
}
