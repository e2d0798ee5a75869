import { Gauge, type Registry, type Sql } from '@shop/kit';
import { countUnsettled } from '../data-access/payments-repository.ts';

const UNSETTLED = ['CHARGE_PENDING', 'REFUND_PENDING', 'REFUND_FAILED'] as const;

/**
 * `payments_unsettled{status}` on /metrics: the payments whose money is not settled, counted in
 * the database at each scrape, so every instance reports the same truth and a restart loses
 * nothing. A pending count that only grows, or any REFUND_FAILED, wants an operator
 * (docs/operations.md, "The payment gateway").
 */
export function registerPaymentMetrics(registry: Registry, sql: Sql): void {
  new Gauge({
    name: 'payments_unsettled',
    help: 'Payments not settled: CHARGE_PENDING and REFUND_PENDING (retried until the gateway answers), REFUND_FAILED (refused; needs an operator)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      try {
        const counts = new Map((await countUnsettled(sql)).map(({ status, count }) => [status, count]));
        for (const status of UNSETTLED) this.set({ status }, counts.get(status) ?? 0);
      } catch {
        // The database is unreachable: readiness says so; the gauge keeps its last figures
        // rather than failing the whole scrape.
      }
    },
  });
}
