import { Type } from 'typebox';
import { Problem, type HttpApp, type Sql } from '@shop/kit';
import { charge, ledgerOf, refund, type ChargeRow, type RefundRow } from '../domain/ledger.ts';

const Key = Type.String({ minLength: 1, maxLength: 200 });

const ChargeBody = Type.Object(
  {
    amountCents: Type.Integer({ minimum: 1 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    token: Type.String({ minLength: 1, maxLength: 100, description: 'tok_ok, tok_decline or tok_flaky' }),
    reference: Type.String({ minLength: 1, maxLength: 200, description: "The merchant's reference, e.g. the order id" }),
    idempotencyKey: Key,
  },
  { additionalProperties: false },
);
const RefundBody = Type.Object({ chargeId: Type.String({ minLength: 1 }), idempotencyKey: Key }, { additionalProperties: false });

const Refund = Type.Object({
  id: Type.String(),
  chargeId: Type.String(),
  idempotencyKey: Type.String(),
  amountCents: Type.Integer(),
  createdAt: Type.String(),
});
const Charge = Type.Object({
  id: Type.String(),
  idempotencyKey: Type.String(),
  reference: Type.String(),
  amountCents: Type.Integer(),
  currency: Type.String(),
  status: Type.Enum(['SUCCEEDED', 'DECLINED']),
  createdAt: Type.String(),
});
const ChargeWithRefunds = Type.Object({ ...Charge.properties, refunds: Type.Array(Refund) });

const chargeView = (row: ChargeRow) => ({
  id: row.id,
  idempotencyKey: row.idempotencyKey,
  reference: row.reference,
  amountCents: row.amountCents,
  currency: row.currency,
  status: row.status,
  createdAt: row.createdAt.toISOString(),
});
const refundView = (row: RefundRow) => ({ ...row, createdAt: new Date(row.createdAt).toISOString() });

export async function gatewayRoutes(app: HttpApp, { sql }: { sql: Sql }): Promise<void> {
  app.post(
    '/charges',
    {
      schema: {
        tags: ['charges'],
        summary: 'Charge a card token once per idempotency key (201 new, 200 replayed; 402 declined; 503 try again)',
        body: ChargeBody,
        response: { 200: Charge, 201: Charge, 400: Problem, 402: Problem, 422: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const result = await charge(sql, request.body);
      return reply.code(result.replayed ? 200 : 201).send(chargeView(result.charge));
    },
  );

  app.post(
    '/refunds',
    {
      schema: {
        tags: ['refunds'],
        summary: 'Refund a charge in full, at most once',
        body: RefundBody,
        response: { 200: Refund, 201: Refund, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const result = await refund(sql, request.body);
      return reply.code(result.replayed ? 200 : 201).send(refundView(result.refund));
    },
  );

  app.get(
    '/charges',
    {
      schema: {
        tags: ['charges'],
        summary: 'The charges of a reference, each with its refunds (the ledger)',
        querystring: Type.Object({ reference: Type.String({ minLength: 1 }) }),
        response: { 200: Type.Array(ChargeWithRefunds), 400: Problem },
      },
    },
    async (request) =>
      (await ledgerOf(sql, request.query.reference)).map((row) => ({ ...chargeView(row), refunds: row.refunds.map(refundView) })),
  );
}
