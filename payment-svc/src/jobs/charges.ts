// The charge dispatcher as a job: it asks the gateway for every pending charge, outside the
// consumer's transaction, woken by the consumer after each commit and on its tick for charges
// whose next try has come (domain/charging.ts).
import type { PeriodicJob } from '@shop/kit';
import type { ChargeDispatcher } from '../domain/charging.ts';

/** Runs the dispatcher until the service closes; it waits for its calls in flight then. */
export function chargeJob(dispatcher: ChargeDispatcher, everyMs: number): PeriodicJob {
  return { name: 'charges', everyMs, run: (signal) => dispatcher.run(signal) };
}
