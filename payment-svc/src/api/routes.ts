import { bearerAuth, Problem, type HttpApp, type Sql } from '@shop/kit';
import { paymentsOfOrder, type PaymentRow } from '../domain/payments.ts';
import { PaymentQuery, Payments, type Payment } from './schemas.ts';

const toPayment = (row: PaymentRow): Payment => ({
  id: row.id,
  orderId: row.orderId,
  userId: row.userId,
  amountCents: row.amountCents,
  currency: row.currency,
  status: row.status,
  ...(row.failureReason ? { failureReason: row.failureReason } : {}),
  ...(row.gatewayChargeId ? { gatewayChargeId: row.gatewayChargeId } : {}),
  ...(row.gatewayRefundId ? { gatewayRefundId: row.gatewayRefundId } : {}),
  attempts: row.attempts,
  ...(row.nextAttemptAt ? { nextAttemptAt: row.nextAttemptAt.toISOString() } : {}),
  ...(row.lastError ? { lastError: row.lastError } : {}),
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export async function paymentRoutes(app: HttpApp, { sql }: { sql: Sql }): Promise<void> {
  app.get(
    '/payments',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['payments'],
        summary: 'The payment of an order (its owner or an admin)',
        security: bearerAuth,
        querystring: PaymentQuery,
        response: { 200: Payments, 400: Problem, 404: Problem },
      },
    },
    async (request) => (await paymentsOfOrder(sql, request.user, request.query.orderId)).map(toPayment),
  );
}
