import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueViolation, type HttpProblem, type Sql } from '@shop/kit';
import {
  chargeOutageLasts,
  chargesByReference,
  countFlakyAttempt,
  findCharge,
  findChargeByKey,
  findRefundByKey,
  findRefundOfCharge,
  insertCharge,
  insertRefund,
  insertRefundOutage,
  refundOutageLasts,
} from '../data-access/ledger-repository.ts';
import { gatewayProblems } from './problems.ts';

export interface ChargeRow {
  id: string;
  idempotencyKey: string;
  reference: string;
  amountCents: number;
  currency: string;
  /** None for a void. */
  token: string | null;
  status: 'SUCCEEDED' | 'DECLINED' | 'VOIDED';
  createdAt: Date;
}

export interface RefundRow {
  id: string;
  chargeId: string;
  idempotencyKey: string;
  amountCents: number;
  createdAt: Date;
}

/** A charge with its refunds, as the ledger lists them. */
export type LedgerEntry = ChargeRow & { refunds: RefundRow[] };

// The simulated processor's behaviour is chosen by the card token, as test cards are at real
// processors (docs/contract.md lists them): tok_ok succeeds, tok_decline is declined,
// tok_flaky fails twice (503) first, tok_slow charges but answers its first request too late,
// tok_unavailable answers 503 until its outage is ended (by hand: charge_outages),
// tok_refund_unavailable charges but its refunds answer 503 until their outage is ended
// (refund_outages), tok_refund_refused charges but its refunds are refused (409).
const TOKENS = [
  'tok_ok',
  'tok_decline',
  'tok_flaky',
  'tok_slow',
  'tok_unavailable',
  'tok_refund_unavailable',
  'tok_refund_refused',
] as const;
const FLAKY_FAILURES = 2;

export interface LedgerSettings {
  /** How long tok_slow's first request waits, after charging, before it answers: longer than the client waits. */
  slowAnswerMs: number;
}

export interface ChargeRequest {
  amountCents: number;
  currency: string;
  token: string;
  reference: string;
  idempotencyKey: string;
}

function voided(charge: ChargeRow): HttpProblem {
  return gatewayProblems.CHARGE_VOIDED(`The merchant voided this idempotency key (${charge.id}); nothing was charged.`);
}

function declined(charge: ChargeRow): HttpProblem {
  return gatewayProblems.CARD_DECLINED(`The card was declined (charge ${charge.id}).`);
}

/** Whether a charge (or void) under a key was for this amount of this reference. */
const sameTerms = (existing: ChargeRow, request: VoidRequest) =>
  existing.amountCents === request.amountCents && existing.currency === request.currency && existing.reference === request.reference;

const keyReused = () => gatewayProblems.IDEMPOTENCY_KEY_REUSED('This idempotency key was used for a different charge.');

/** The answer to a repeated request: the first result, if it was the same request. */
function replay(existing: ChargeRow, request: ChargeRequest): ChargeRow {
  if (existing.status === 'VOIDED') throw voided(existing);
  if (!sameTerms(existing, request) || existing.token !== request.token) throw keyReused();
  if (existing.status === 'DECLINED') throw declined(existing);
  return existing;
}

/**
 * Charges a card once per idempotency key: a repeated key returns the first outcome (the same
 * charge, or the same decline) and never charges again, also across restarts.
 */
export async function charge(
  sql: Sql,
  request: ChargeRequest,
  settings: LedgerSettings,
): Promise<{ charge: ChargeRow; replayed: boolean }> {
  if (!(TOKENS as readonly string[]).includes(request.token)) {
    throw gatewayProblems.INVALID_TOKEN(`Unknown card token; use one of ${TOKENS.join(', ')}.`);
  }
  // A repeated request is answered at once, tok_slow's too: that is how its lost answer is found.
  const replayed = (existing: ChargeRow) => ({ charge: replay(existing, request), replayed: true });
  if (request.token === 'tok_unavailable' || request.token === 'tok_flaky') {
    // Their first answers count attempts, which a repeated request after the charge must not do.
    const existing = await findChargeByKey(sql, request.idempotencyKey);
    if (existing) return replayed(existing);
    const unavailable =
      request.token === 'tok_unavailable'
        ? await chargeOutageLasts(sql, request.idempotencyKey)
        : (await countFlakyAttempt(sql, request.idempotencyKey)) <= FLAKY_FAILURES;
    if (unavailable) throw temporarilyUnavailable();
  }
  const status = request.token === 'tok_decline' ? 'DECLINED' : 'SUCCEEDED';
  const charge: Omit<ChargeRow, 'createdAt'> = { id: `ch_${randomUUID()}`, ...request, status };
  // A tok_refund_unavailable charge and its refund outage exist together or not at all; any
  // other charge is one statement, which needs no transaction around it (two round trips fewer).
  const created =
    request.token === 'tok_refund_unavailable'
      ? await sql.begin(async (tx) => {
          const row = await insertCharge(tx, charge);
          if (row) await insertRefundOutage(tx, row.id);
          return row;
        })
      : await insertCharge(sql, charge);
  // The key was used before (or is in flight twice, and the other request charged): answer what it got.
  if (!created) return replayed((await findChargeByKey(sql, request.idempotencyKey))!);
  if (created.status === 'DECLINED') throw declined(created);
  // The charge is in the ledger; its answer comes after the client has given up, so the
  // client learns of it only by asking again under the same key (or reading the ledger).
  if (request.token === 'tok_slow') await sleep(settings.slowAnswerMs);
  return { charge: created, replayed: false };
}

export type VoidRequest = Pick<ChargeRequest, 'amountCents' | 'currency' | 'reference' | 'idempotencyKey'>;

/**
 * Takes a charge's idempotency key so that nothing can be charged under it, unless a charge
 * has it already: answers the void, or what the key holds (a charge to refund, a decline, an
 * earlier void). A charge request in flight under the key is waited for, so whichever of the
 * two is first in the ledger decides, however late the charge request arrives.
 */
export async function voidCharge(sql: Sql, request: VoidRequest): Promise<{ charge: ChargeRow; replayed: boolean }> {
  const created = await insertCharge(sql, { id: `ch_${randomUUID()}`, ...request, token: null, status: 'VOIDED' });
  if (created) return { charge: created, replayed: false };
  const existing = (await findChargeByKey(sql, request.idempotencyKey))!;
  if (!sameTerms(existing, request)) throw keyReused();
  return { charge: existing, replayed: true };
}

function temporarilyUnavailable(): HttpProblem {
  return gatewayProblems.TEMPORARILY_UNAVAILABLE('The processor is temporarily unavailable; retry with the same idempotency key.', {
    'retry-after': '1',
  });
}

/** Refunds a successful charge in full, at most once whatever the keys used. */
export async function refund(
  sql: Sql,
  request: { chargeId: string; idempotencyKey: string },
): Promise<{ refund: RefundRow; replayed: boolean }> {
  // The refund a key already names is answered again, but only for the charge it was made for.
  const replay = (existing: RefundRow) => {
    if (existing.chargeId !== request.chargeId)
      throw gatewayProblems.IDEMPOTENCY_KEY_REUSED('This idempotency key was used for another refund.');
    return { refund: existing, replayed: true };
  };
  const existing = await findRefundByKey(sql, request.idempotencyKey);
  if (existing) return replay(existing);
  const target = await findCharge(sql, request.chargeId);
  if (!target) throw gatewayProblems.CHARGE_NOT_FOUND(`There is no charge ${request.chargeId}.`);
  if (target.status !== 'SUCCEEDED')
    throw gatewayProblems.CHARGE_NOT_REFUNDABLE(`A ${target.status.toLowerCase()} charge has nothing to refund.`);
  if (target.token === 'tok_refund_refused') throw gatewayProblems.CHARGE_NOT_REFUNDABLE('This card does not accept refunds.');
  if (await refundOutageLasts(sql, target.id)) throw temporarilyUnavailable();
  try {
    return {
      refund: await insertRefund(sql, {
        id: `re_${randomUUID()}`,
        chargeId: target.id,
        idempotencyKey: request.idempotencyKey,
        amountCents: target.amountCents,
      }),
      replayed: false,
    };
  } catch (error) {
    if (uniqueViolation(error) === undefined) throw error;
    // Another request with the same key got in first, for this charge or another.
    const again = await findRefundByKey(sql, request.idempotencyKey);
    if (again) return replay(again);
    const other = await findRefundOfCharge(sql, target.id);
    throw gatewayProblems.ALREADY_REFUNDED(`The charge was already refunded (${other?.id ?? 'another refund'}).`);
  }
}

/** The ledger of a reference (an order id): its charges in the order they were made, each with its refunds (voids are no charges). */
export function ledgerOf(sql: Sql, reference: string): Promise<LedgerEntry[]> {
  return chargesByReference(sql, reference);
}
