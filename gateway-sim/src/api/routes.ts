import { Problem, type HttpApp, type Sql } from '@shop/kit';
import { charge, ledgerOf, refund, voidCharge, type ChargeRow, type LedgerSettings, type RefundRow } from '../domain/ledger.ts';
import { Charge, ChargeBody, Ledger, LedgerQuery, Refund, RefundBody, VoidBody } from './schemas.ts';

const chargeView = (row: ChargeRow): Charge => ({
  id: row.id,
  idempotencyKey: row.idempotencyKey,
  reference: row.reference,
  amountCents: row.amountCents,
  currency: row.currency,
  status: row.status,
  createdAt: row.createdAt.toISOString(),
});
const refundView = (row: RefundRow): Refund => ({ ...row, createdAt: new Date(row.createdAt).toISOString() });

export async function gatewayRoutes(app: HttpApp, { sql, settings }: { sql: Sql; settings: LedgerSettings }): Promise<void> {
  app.post(
    '/charges',
    {
      schema: {
        tags: ['charges'],
        summary: 'Charge a card token once per idempotency key (201 new, 200 replayed; 402 declined; 409 voided; 503 try again)',
        body: ChargeBody,
        response: { 200: Charge, 201: Charge, 400: Problem, 402: Problem, 409: Problem, 422: Problem, 503: Problem },
      },
    },
    async (request, reply) => {
      const result = await charge(sql, request.body, settings);
      return reply.code(result.replayed ? 200 : 201).send(chargeView(result.charge));
    },
  );

  app.post(
    '/charges/void',
    {
      schema: {
        tags: ['charges'],
        summary:
          'Take an idempotency key so that nothing can be charged under it (201 voided; 200 what the key holds: a charge, a decline or the void)',
        body: VoidBody,
        response: { 200: Charge, 201: Charge, 400: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const result = await voidCharge(sql, request.body);
      return reply.code(result.replayed ? 200 : 201).send(chargeView(result.charge));
    },
  );

  app.post(
    '/refunds',
    {
      schema: {
        tags: ['refunds'],
        summary: 'Refund a charge in full, at most once (201 new, 200 replayed; 409 refused; 503 try again)',
        body: RefundBody,
        response: { 200: Refund, 201: Refund, 400: Problem, 404: Problem, 409: Problem, 422: Problem, 503: Problem },
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
        summary: 'The charges of a reference, each with its refunds (the ledger; voids charged nothing and are left out)',
        querystring: LedgerQuery,
        response: { 200: Ledger, 400: Problem },
      },
    },
    async (request) =>
      (await ledgerOf(sql, request.query.reference)).map((row) => ({ ...chargeView(row), refunds: row.refunds.map(refundView) })),
  );
}
