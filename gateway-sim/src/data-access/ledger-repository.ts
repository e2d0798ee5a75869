import type { Sql, Transaction } from '@shop/kit';

export interface ChargeRow {
  id: string;
  idempotencyKey: string;
  reference: string;
  amountCents: number;
  currency: string;
  token: string;
  status: 'SUCCEEDED' | 'DECLINED';
  createdAt: Date;
}

export interface RefundRow {
  id: string;
  chargeId: string;
  idempotencyKey: string;
  amountCents: number;
  createdAt: Date;
}

const chargeColumns = (sql: Sql | Transaction) =>
  sql`id, idempotency_key as "idempotencyKey", reference, amount_cents as "amountCents", currency, token, status, created_at as "createdAt"`;
const refundColumns = (sql: Sql | Transaction) =>
  sql`id, charge_id as "chargeId", idempotency_key as "idempotencyKey", amount_cents as "amountCents", created_at as "createdAt"`;

export const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

export async function findChargeByKey(sql: Sql | Transaction, idempotencyKey: string): Promise<ChargeRow | undefined> {
  const [row] = await sql<ChargeRow[]>`select ${chargeColumns(sql)} from charges where idempotency_key = ${idempotencyKey}`;
  return row;
}

export async function findCharge(sql: Sql | Transaction, id: string): Promise<ChargeRow | undefined> {
  const [row] = await sql<ChargeRow[]>`select ${chargeColumns(sql)} from charges where id = ${id}`;
  return row;
}

export async function insertCharge(sql: Sql, charge: Omit<ChargeRow, 'createdAt'>): Promise<ChargeRow> {
  const [row] = await sql<ChargeRow[]>`
    insert into charges (id, idempotency_key, reference, amount_cents, currency, token, status)
    values (${charge.id}, ${charge.idempotencyKey}, ${charge.reference}, ${charge.amountCents}, ${charge.currency}, ${charge.token}, ${charge.status})
    returning ${chargeColumns(sql)}`;
  return row!;
}

/** Counts an attempt of a flaky charge; committed on its own, so a failed attempt still counts. */
export async function countFlakyAttempt(sql: Sql, idempotencyKey: string): Promise<number> {
  const [row] = await sql<[{ attempts: number }]>`
    insert into flaky_attempts (idempotency_key, attempts) values (${idempotencyKey}, 1)
    on conflict (idempotency_key) do update set attempts = flaky_attempts.attempts + 1
    returning attempts`;
  return row.attempts;
}

export async function findRefundByKey(sql: Sql, idempotencyKey: string): Promise<RefundRow | undefined> {
  const [row] = await sql<RefundRow[]>`select ${refundColumns(sql)} from refunds where idempotency_key = ${idempotencyKey}`;
  return row;
}

export async function findRefundOfCharge(sql: Sql, chargeId: string): Promise<RefundRow | undefined> {
  const [row] = await sql<RefundRow[]>`select ${refundColumns(sql)} from refunds where charge_id = ${chargeId}`;
  return row;
}

export async function insertRefund(sql: Sql, refund: Omit<RefundRow, 'createdAt'>): Promise<RefundRow> {
  const [row] = await sql<RefundRow[]>`
    insert into refunds (id, charge_id, idempotency_key, amount_cents)
    values (${refund.id}, ${refund.chargeId}, ${refund.idempotencyKey}, ${refund.amountCents})
    returning ${refundColumns(sql)}`;
  return row!;
}

export function chargesByReference(sql: Sql, reference: string): Promise<(ChargeRow & { refunds: RefundRow[] })[]> {
  return sql<(ChargeRow & { refunds: RefundRow[] })[]>`
    select ${chargeColumns(sql)},
      coalesce((select json_agg(json_build_object('id', r.id, 'chargeId', r.charge_id, 'idempotencyKey', r.idempotency_key,
                                                  'amountCents', r.amount_cents, 'createdAt', r.created_at))
                from refunds r where r.charge_id = charges.id), '[]'::json) as refunds
    from charges where reference = ${reference} order by created_at, id`;
}
