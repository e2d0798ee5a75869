// The settlement retries: cancelled orders' refunds the gateway has not answered definitely are
// asked again, under the same idempotency keys, with capped backoff per payment, for as long
// as it takes. The event handler tries once (a quick burst) and leaves the rest here, so one
// order's silent gateway never holds back the orders behind it on the partition. (Pending
// charges are retried by the charge dispatcher, jobs/charges.ts.)
import type { PeriodicJob } from '@shop/kit';
import { retryDueSettlements, type RetryJobDependencies } from '../domain/retries.ts';

export function settlementRetryJob(dependencies: RetryJobDependencies, everyMs: number): PeriodicJob {
  return {
    name: 'payment-retries',
    everyMs,
    async run(signal) {
      await retryDueSettlements(dependencies, signal);
    },
  };
}
