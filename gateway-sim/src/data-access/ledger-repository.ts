import type { Sql, Transaction } from '@shop/kit';
import type { ChargeRow, LedgerEntry, RefundRow } from '../domain/ledger.ts';

const chargeColumns = (sql: Sql | Transaction) => sql`id, idempotency_key, reference, amount_cents, currency, token, status, created_at`;
const refundColumns = (sql: Sql | Transaction) => sql`id, charge_id, idempotency_key, amount_cents, created_at`;

export async function findChargeByKey(sql: Sql | Transaction, idempotencyKey: string): Promise<ChargeRow | undefined> {
  const [row] = await sql<ChargeRow[]>`select ${chargeColumns(sql)} from charges where idempotency_key = ${idempotencyKey}`;
  return row;
}

export async function findCharge(sql: Sql | Transaction, id: string): Promise<ChargeRow | undefined> {
  const [row] = await sql<ChargeRow[]>`select ${chargeColumns(sql)} from charges where id = ${id}`;
  return row;
}

/**
 * A new charge, unless its idempotency key was used (undefined then): a charge in flight under
 * the same key is waited for, so the one it wrote can be read at once.
 */
export async function insertCharge(sql: Sql | Transaction, charge: Omit<ChargeRow, 'createdAt'>): Promise<ChargeRow | undefined> {
  const values = sql(charge, 'id', 'idempotencyKey', 'reference', 'amountCents', 'currency', 'token', 'status');
  const [row] = await sql<ChargeRow[]>`
    insert into charges ${values} on conflict (idempotency_key) do nothing returning ${chargeColumns(sql)}`;
  return row;
}

/** Counts an attempt of a flaky charge; committed on its own, so a failed attempt still counts. */
export async function countFlakyAttempt(sql: Sql, idempotencyKey: string): Promise<number> {
  const values = sql({ idempotencyKey, attempts: 1 }, 'idempotencyKey', 'attempts');
  const [row] = await sql<[{ attempts: number }]>`
    insert into flaky_attempts ${values}
    on conflict (idempotency_key) do update set attempts = flaky_attempts.attempts + 1
    returning attempts`;
  return row.attempts;
}

/** Whether charges under this key are still out (the outage starts with the key's first attempt). */
export async function chargeOutageLasts(sql: Sql, idempotencyKey: string): Promise<boolean> {
  const values = sql({ idempotencyKey }, 'idempotencyKey');
  // The no-op update returns the row whether it was just inserted or already there.
  const [row] = await sql<[{ endedAt: Date | null }]>`
    insert into charge_outages ${values}
    on conflict (idempotency_key) do update set idempotency_key = excluded.idempotency_key
    returning ended_at`;
  return row.endedAt === null;
}

export async function insertRefundOutage(tx: Transaction, chargeId: string): Promise<void> {
  await tx`insert into refund_outages ${tx({ chargeId }, 'chargeId')}`;
}

export async function refundOutageLasts(sql: Sql, chargeId: string): Promise<boolean> {
  return (await sql`select 1 from refund_outages where charge_id = ${chargeId} and ended_at is null`).length > 0;
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
  const values = sql(refund, 'id', 'chargeId', 'idempotencyKey', 'amountCents');
  const [row] = await sql<RefundRow[]>`insert into refunds ${values} returning ${refundColumns(sql)}`;
  return row!;
}

/**
 * The charges of a reference, each with its refunds; not the voids, which charged nothing (a
 * void answers for itself, and a charge under its key is refused). The refunds are built as
 * JSON, whose keys the column transform leaves alone: they are spelled here as the API spells them.
 */
export function chargesByReference(sql: Sql, reference: string): Promise<LedgerEntry[]> {
  return sql<LedgerEntry[]>`
    select ${chargeColumns(sql)},
      coalesce((select json_agg(json_build_object('id', r.id, 'chargeId', r.charge_id, 'idempotencyKey', r.idempotency_key,
                                                  'amountCents', r.amount_cents, 'createdAt', r.created_at))
                from refunds r where r.charge_id = charges.id), '[]'::json) as refunds
    from charges where reference = ${reference} and status <> 'VOIDED' order by created_at, id`;
}
