// The order deadline: no order stays PENDING for ever. A saga step that was dead-lettered or
// never answers would otherwise leave the order waiting, with a card perhaps charged and
// stock held; at its deadline the order is cancelled TIMED_OUT, and order-cancelled makes
// payment-svc refund and product-svc release, also what the missing step does late.
import { Counter, Gauge, type Logger, type PeriodicJob, type Registry } from '@shop/kit';
import { cancelOverdueOrders, type OrdersDependencies, type TimedOutOrder } from '../domain/orders.ts';

/** Orders cancelled per transaction: a backlog drains quickly, and each transaction stays short. */
const BATCH_SIZE = 100;

/**
 * How often the deadline is checked: a tenth of it, between 1 s and 1 min, so an order is
 * cancelled at most 10 % (and at most a minute) after its deadline.
 */
export const deadlineCheckInterval = (deadlineMs: number): number => Math.min(60_000, Math.max(1_000, Math.round(deadlineMs / 10)));

const reporterOf = { payment: "payment-svc's payment report", inventory: "product-svc's inventory report" } as const;

export function orderDeadline(dependencies: OrdersDependencies, logger: Logger, metrics: Registry, deadlineMs: number): PeriodicJob {
  const timedOut = new Counter({
    name: 'orders_timed_out_total',
    help: 'Orders cancelled TIMED_OUT at their deadline, by the report that was missing (payment, inventory or both)',
    labelNames: ['missing'] as const,
    registers: [metrics],
  });
  // The deadline in force, for alerts on PENDING age and for tests that wait for it.
  const deadline = new Gauge({
    name: 'orders_deadline_seconds',
    help: 'How long an order may stay PENDING before it is cancelled TIMED_OUT (ORDER_DEADLINE_MS)',
    registers: [metrics],
  });
  deadline.set(deadlineMs / 1000);

  const report = (order: TimedOutOrder) => {
    timedOut.inc({ missing: order.missing.length === 1 ? order.missing[0]! : 'both' });
    logger.warn(
      { orderId: order.orderId, placedAt: order.placedAt.toISOString(), deadlineMs, missing: order.missing },
      `order cancelled TIMED_OUT: still waiting for ${order.missing.map((side) => reporterOf[side]).join(' and ')} at its deadline`,
    );
  };

  return {
    name: 'order-deadline',
    everyMs: deadlineCheckInterval(deadlineMs),
    async run(signal) {
      // Batch after batch while there are overdue orders (many after a long outage), each
      // reported once its transaction committed; a closing service stops between batches.
      while (!signal.aborted) {
        const cancelled = await cancelOverdueOrders(dependencies, deadlineMs, BATCH_SIZE);
        cancelled.forEach(report);
        if (cancelled.length < BATCH_SIZE) return;
      }
    },
  };
}
