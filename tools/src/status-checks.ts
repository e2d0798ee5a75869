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

interface UnsettledPayments {
  chargesPending: number;
  refundsPending: number;
  refundsFailed: number;
  pendingOver10Minutes: number;
}

export const sagaChecks: Partial<Record<ServiceName, SagaCheck[]>> = {
  // Charges and refunds whose gateway answer has not come yet are retried by payment-svc's
  // job; only one that has waited long, or a refund the gateway refused, needs a person.
  'payment-svc': [
    async (sql) => {
      const [row] = await sql<UnsettledPayments[]>`
        select count(*) filter (where p.status = 'CHARGE_PENDING')::int as charges_pending,
               count(*) filter (where p.status = 'REFUND_PENDING')::int as refunds_pending,
               count(*) filter (where p.status = 'REFUND_FAILED')::int as refunds_failed,
               count(*) filter (where p.status in ('CHARGE_PENDING', 'REFUND_PENDING')
                                  and coalesce(c.cancelled_at, p.created_at) < now() - interval '10 minutes')::int as pending_over_10_minutes
          from payments p left join cancelled_orders c using (order_id)
         where p.status in ('CHARGE_PENDING', 'REFUND_PENDING', 'REFUND_FAILED')`;
      const { chargesPending = 0, refundsPending = 0, refundsFailed = 0, pendingOver10Minutes = 0 } = row ?? {};
      const warning =
        refundsFailed > 0
          ? 'refunds refused by the gateway (docs/operations.md, "The payment gateway")'
          : pendingOver10Minutes > 0
            ? `${pendingOver10Minutes} waiting for the gateway for over 10 minutes`
            : undefined;
      return {
        text: `payments: ${chargesPending} charges and ${refundsPending} refunds waiting for the gateway, ${refundsFailed} refunds refused`,
        warning,
      };
    },
  ],
  // order-svc cancels a PENDING order at ORDER_DEADLINE_MS (TIMED_OUT, with its refund and
  // stock release): one past half of that is slow, and each timed-out order had a step that
  // never answered.
  'order-svc': [
    async (sql) => {
      const deadlineMs = Number(process.env['ORDER_DEADLINE_MS'] ?? 900_000);
      const slow = await count(
        sql`select count(*)::int as count from orders where status = 'PENDING' and created_at < now() - ${deadlineMs / 2} * interval '1 millisecond'`,
      );
      return {
        text: `${slow} orders PENDING for over half the deadline (${deadlineMs / 1000} s)`,
        warning: slow > 0 ? 'the saga is slow or stuck; they are cancelled at the deadline' : undefined,
      };
    },
    async (sql) => {
      const [row] = await sql<{ count: number; noPaymentReport: number; noInventoryReport: number }[]>`
        select count(*)::int as count,
               count(*) filter (where payment_outcome is null)::int as no_payment_report,
               count(*) filter (where inventory_outcome is null)::int as no_inventory_report
          from orders where cancel_reason = 'TIMED_OUT' and updated_at > now() - interval '24 hours'`;
      const { count: timedOut = 0, noPaymentReport = 0, noInventoryReport = 0 } = row ?? {};
      return {
        text: `${timedOut} orders cancelled TIMED_OUT in the last 24 h (${noPaymentReport} without a payment report, ${noInventoryReport} without an inventory report)`,
        warning: timedOut > 0 ? 'a saga step did not answer in time (make dlq, and the logs of the silent service)' : undefined,
      };
    },
  ],
  // Mails wait for the SMTP server (retried with backoff) or for their user's address; one
  // waiting long, or one refused or given up, means a customer was not told something.
  'notification-svc': [
    async (sql) => {
      const [row] = await sql<{ pending: number; noAddress: number; pendingOver10Minutes: number; lost: number }[]>`
        select count(*) filter (where n.status = 'PENDING')::int as pending,
               count(*) filter (where n.status = 'PENDING' and r.user_id is null)::int as no_address,
               count(*) filter (where n.status = 'PENDING' and n.created_at < now() - interval '10 minutes')::int as pending_over_10_minutes,
               count(*) filter (where n.status in ('FAILED', 'EXPIRED') and n.created_at > now() - interval '24 hours')::int as lost
          from notifications n left join recipients r using (user_id)
         where n.status <> 'SENT'`;
      const { pending = 0, noAddress = 0, pendingOver10Minutes = 0, lost = 0 } = row ?? {};
      return {
        text: `mails: ${pending} waiting (${noAddress} for their user's address), ${lost} refused or given up in the last 24 h`,
        warning:
          lost > 0
            ? 'mails that will not go out (docs/operations.md, "The mail server")'
            : pendingOver10Minutes > 0
              ? `${pendingOver10Minutes} waiting for over 10 minutes: is the SMTP server up?`
              : undefined,
      };
    },
  ],
};
