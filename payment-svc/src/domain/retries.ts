import { classifyFailure, lockAggregate, type Logger, type Sql, type Transaction } from '@shop/kit';
import { dueSettlements, lockDueSettlement, markRefundFailed } from '../data-access/payments-repository.ts';
import { settlePayment, type PaymentRow, type PaymentsDependencies } from './payments.ts';

export interface RetryJobDependencies extends PaymentsDependencies {
  sql: Sql;
  logger: Logger;
}

/** Pending settlements tried per run at most; the rest wait for the next tick, oldest due first. */
const BATCH = 50;

/**
 * One try of a due settlement (a cancelled order's money), under its order's lock, with one
 * call per question: the backoff between runs is the patience here. Pending charges are the
 * charge dispatcher's (charging.ts).
 */
async function retrySettlement(tx: Transaction, dependencies: RetryJobDependencies, payment: PaymentRow): Promise<void> {
  const outcome = await settlePayment(tx, dependencies, payment, 1);
  // No event to dead-letter here: the refusal stays on the payment, for an operator.
  if (outcome) await markRefundFailed(tx, payment.id, outcome.refused.chargeId, outcome.refused.message);
}

/**
 * Tries every due settlement once, each in its own transaction. The order's lock is taken
 * first, as the event handlers take it, so a retry is never interleaved with them and the
 * two never wait for each other's row in the opposite order; the row is then locked with
 * SKIP LOCKED and read again, so what another instance has just settled is left alone.
 * Returns how many were tried.
 */
export async function retryDueSettlements(dependencies: RetryJobDependencies, signal: AbortSignal): Promise<number> {
  let tried = 0;
  for (const orderId of await dueSettlements(dependencies.sql, BATCH)) {
    if (signal.aborted) break;
    try {
      await dependencies.sql.begin(async (tx) => {
        await lockAggregate(tx, orderId);
        const payment = await lockDueSettlement(tx, orderId);
        if (payment) await retrySettlement(tx, dependencies, payment);
      });
      tried += 1;
    } catch (error) {
      // An outage ends the run (the next tick tries again); a fault of one payment must not
      // keep the others from their retries.
      if (classifyFailure(error) === 'infrastructure') throw error;
      dependencies.logger.error({ err: error, orderId }, 'retrying a pending settlement failed; it is tried again at the next tick');
    }
  }
  return tried;
}
