import { classifyFailure, lockAggregate, type Logger, type Sql, type Transaction } from '@shop/kit';
import { beginSettlement, dueOrders, isCancelled, lockDuePayment, saveStagedChargeOutcomes } from '../data-access/payments-repository.ts';
import { chargeVerdict } from './gateway-answers.ts';
import { chargeRequest, recordChargeVerdict, settlePayment, type PaymentRow, type PaymentsDependencies } from './payments.ts';

export interface RetryJobDependencies extends PaymentsDependencies {
  sql: Sql;
  logger: Logger;
}

/** Pending payments tried per run at most; the rest wait for the next tick, oldest due first. */
const BATCH = 50;

/**
 * One try of a due pending payment, under its order's lock. A pending charge whose order was
 * cancelled meanwhile is not charged again: it turns into a settlement, which voids its key at
 * the gateway and refunds an earlier try that landed first. One call per question: the backoff between
 * runs is the patience here.
 */
async function retryPayment(tx: Transaction, dependencies: RetryJobDependencies, payment: PaymentRow): Promise<void> {
  if (payment.status === 'CHARGE_PENDING' && !(await isCancelled(tx, payment.orderId))) {
    // The token is kept while the charge is pending (a CHECK constraint says so).
    const verdict = chargeVerdict(await dependencies.gateway.charge(chargeRequest(payment, payment.paymentToken!)));
    await recordChargeVerdict(tx, dependencies, payment, verdict);
    return;
  }
  const settling = payment.status === 'CHARGE_PENDING' ? await beginSettlement(tx, payment.id) : payment;
  await settlePayment(tx, dependencies, settling, 1);
}

/**
 * Tries every due pending charge and refund once, each in its own transaction. The order's
 * lock is taken first, as the event handlers take it, so a cancellation is never interleaved
 * with a retry and the two never wait for each other's row in the opposite order; the row is
 * then locked with SKIP LOCKED and read again, so what another instance has just settled is
 * left alone. Returns how many were tried.
 */
export async function retryDuePayments(dependencies: RetryJobDependencies, signal: AbortSignal): Promise<number> {
  let tried = 0;
  for (const orderId of await dueOrders(dependencies.sql, BATCH)) {
    if (signal.aborted) break;
    try {
      await dependencies.sql.begin(async (tx) => {
        await lockAggregate(tx, orderId);
        const payment = await lockDuePayment(tx, orderId);
        if (payment) await retryPayment(tx, dependencies, payment);
        await saveStagedChargeOutcomes(tx);
      });
      tried += 1;
    } catch (error) {
      // An outage ends the run (the next tick tries again); a fault of one payment must not
      // keep the others from their retries.
      if (classifyFailure(error) === 'infrastructure') throw error;
      dependencies.logger.error({ err: error, orderId }, 'retrying a pending payment failed; it is tried again at the next tick');
    }
  }
  return tried;
}
