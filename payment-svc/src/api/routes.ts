import { Type } from 'typebox';
import { Problem, type HttpApp, type Sql } from '@shop/kit';
import { paymentsOfOrder, type PaymentRow } from '../domain/payments.ts';

const Payment = Type.Object({
  id: Type.String({ format: 'uuid' }),
  orderId: Type.String({ format: 'uuid' }),
  userId: Type.String({ format: 'uuid' }),
  amountCents: Type.Integer(),
  currency: Type.String(),
  status: Type.Enum(['SUCCEEDED', 'FAILED', 'REFUNDED']),
  failureReason: Type.Optional(Type.String()),
  gatewayChargeId: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const toPayment = (row: PaymentRow) => ({
  id: row.id,
  orderId: row.orderId,
  userId: row.userId,
  amountCents: row.amountCents,
  currency: row.currency,
  status: row.status,
  ...(row.failureReason ? { failureReason: row.failureReason } : {}),
  ...(row.gatewayChargeId ? { gatewayChargeId: row.gatewayChargeId } : {}),
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
        security: [{ bearer: [] }],
        querystring: Type.Object({ orderId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
        response: { 200: Type.Array(Payment), 400: Problem, 401: Problem, 404: Problem },
      },
    },
    async (request) => (await paymentsOfOrder(sql, request.user, request.query.orderId)).map(toPayment),
  );
}
