// The saga cases `make status` looks for in each service's database: what is stuck, or was
// resolved by a rule rather than by the happy path, and so deserves an operator's look.
import type { ServiceName, Sql } from '@shop/kit';

export interface CheckResult {
  text: string;
  /** Set when the figure is above what a healthy shop shows. */
  warning?: string | undefined;
}

export type SagaCheck = (sql: Sql) => Promise<CheckResult>;

const count = async (rows: Promise<{ count: number }[]>): Promise<number> => (await rows)[0]?.count ?? 0;

export const sagaChecks: Partial<Record<ServiceName, SagaCheck[]>> = {
  'order-svc': [
    async (sql) => {
      const stuck = await count(
        sql`select count(*)::int as count from orders where status = 'PENDING' and created_at < now() - interval '2 minutes'`,
      );
      return { text: `${stuck} orders PENDING for over 2 minutes`, warning: stuck > 0 ? 'the saga is slow or stuck' : undefined };
    },
  ],
};
