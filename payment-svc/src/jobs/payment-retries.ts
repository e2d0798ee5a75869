// The retry job: charges and refunds the gateway has not answered definitely are asked again,
// under the same idempotency keys, with capped backoff per payment, for as long as it takes.
// The event handlers try once (a quick burst) and leave the rest here, so one order's silent
// gateway never holds back the orders behind it on the partition.
import type { PeriodicJob } from '@shop/kit';
import { retryDuePayments, type RetryJobDependencies } from '../domain/retries.ts';

export function paymentRetryJob(dependencies: RetryJobDependencies, everyMs: number): PeriodicJob {
  return {
    name: 'payment-retries',
    everyMs,
    async run(signal) {
      await retryDuePayments(dependencies, signal);
    },
  };
}
