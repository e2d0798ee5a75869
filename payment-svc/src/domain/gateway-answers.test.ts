import { describe, expect, it } from 'vitest';
import {
  chargeVerdict,
  describeAnswer,
  ledgerVerdict,
  needsSettlement,
  refundVerdict,
  voidVerdict,
  type GatewayAnswer,
} from './gateway-answers.ts';

const answer = (status: number, body: unknown = {}): GatewayAnswer => ({ status, body });
const problem = (status: number, code: string, detail = 'why') => answer(status, { status, code, detail, title: 't', type: 'about:blank' });
const timedOut: GatewayAnswer = { unreachable: 'no answer within 5000 ms' };

describe('a charge answer', () => {
  it('is a charge on 200 or 201 with the charge id (201 new, 200 replayed under the same key)', () => {
    expect(chargeVerdict(answer(201, { id: 'ch_1', status: 'SUCCEEDED' }))).toEqual({ kind: 'charged', chargeId: 'ch_1' });
    expect(chargeVerdict(answer(200, { id: 'ch_1', status: 'SUCCEEDED' }))).toEqual({ kind: 'charged', chargeId: 'ch_1' });
  });

  it('is a decline on 402 and on 400 INVALID_TOKEN, and only then', () => {
    expect(chargeVerdict(problem(402, 'CARD_DECLINED')).kind).toBe('declined');
    expect(chargeVerdict(problem(400, 'INVALID_TOKEN')).kind).toBe('declined');
    expect(chargeVerdict(problem(400, 'VALIDATION_FAILED')).kind).toBe('failed');
  });

  it('is a definite failure (PAYMENT_ERROR) on any other 4xx', () => {
    for (const [status, code] of [
      [422, 'IDEMPOTENCY_KEY_REUSED'],
      [404, 'ROUTE_NOT_FOUND'],
      [409, 'CONFLICT'],
      [401, 'UNAUTHORIZED'],
    ] as const) {
      expect(chargeVerdict(problem(status, code))).toEqual({ kind: 'failed', detail: `gateway answered ${status} ${code}: why` });
    }
  });

  it('is no answer on a timeout, a network error, a 5xx, 408, 429 or a success without a charge id', () => {
    for (const unanswered of [
      timedOut,
      { unreachable: 'connect ECONNREFUSED 127.0.0.1:3005' },
      problem(503, 'TEMPORARILY_UNAVAILABLE'),
      answer(500, '<html>proxy error</html>'),
      answer(502),
      answer(408),
      answer(429),
      answer(202, { id: 'ch_1' }),
      answer(201, {}),
      answer(200, 'not json'),
    ]) {
      expect(chargeVerdict(unanswered).kind).toBe('unknown');
    }
  });

  it('is no answer on 409 CHARGE_VOIDED: the cancellation that voided the key settles the payment, which is no PAYMENT_ERROR', () => {
    expect(chargeVerdict(problem(409, 'CHARGE_VOIDED')).kind).toBe('unknown');
    expect(chargeVerdict(problem(409, 'SOMETHING_ELSE')).kind).toBe('failed');
  });
});

describe('a refund answer', () => {
  it('is a refund on 200 or 201 with the refund id: a repeated key returns the refund already made', () => {
    expect(refundVerdict(answer(201, { id: 're_1' }))).toEqual({ kind: 'refunded', refundId: 're_1' });
    expect(refundVerdict(answer(200, { id: 're_1' }))).toEqual({ kind: 'refunded', refundId: 're_1' });
  });

  it('is "already refunded" on 409 ALREADY_REFUNDED, a refusal on any other 4xx', () => {
    expect(refundVerdict(problem(409, 'ALREADY_REFUNDED')).kind).toBe('already-refunded');
    expect(refundVerdict(problem(409, 'CHARGE_NOT_REFUNDABLE'))).toEqual({
      kind: 'refused',
      detail: 'gateway answered 409 CHARGE_NOT_REFUNDABLE: why',
    });
    expect(refundVerdict(problem(404, 'CHARGE_NOT_FOUND')).kind).toBe('refused');
    expect(refundVerdict(problem(422, 'IDEMPOTENCY_KEY_REUSED')).kind).toBe('refused');
  });

  it('is no answer on a timeout, a network error, a 5xx, 429 or a success without a refund id', () => {
    for (const unanswered of [timedOut, problem(503, 'TEMPORARILY_UNAVAILABLE'), answer(504), answer(429), answer(200, {})]) {
      expect(refundVerdict(unanswered).kind).toBe('unknown');
    }
  });
});

describe("the ledger's answer about the order's charge key", () => {
  const entry = (key: string, status: string, refunds: { id: string }[] = []) => ({
    id: `ch_${key}`,
    idempotencyKey: key,
    status,
    refunds,
  });

  it('names the charge made under the key, and a refund of it if there is one', () => {
    expect(ledgerVerdict(answer(200, [entry('charge:o1', 'SUCCEEDED')]), 'charge:o1')).toEqual({
      kind: 'charged',
      chargeId: 'ch_charge:o1',
      refundId: undefined,
    });
    expect(ledgerVerdict(answer(200, [entry('charge:o1', 'SUCCEEDED', [{ id: 're_1' }])]), 'charge:o1')).toEqual({
      kind: 'charged',
      chargeId: 'ch_charge:o1',
      refundId: 're_1',
    });
  });

  it('ignores charges of the reference made under other keys', () => {
    expect(ledgerVerdict(answer(200, [entry('by-hand', 'SUCCEEDED')]), 'charge:o1')).toEqual({ kind: 'absent' });
    expect(ledgerVerdict(answer(200, []), 'charge:o1')).toEqual({ kind: 'absent' });
    expect(ledgerVerdict(answer(200, [entry('charge:o1', 'DECLINED')]), 'charge:o1')).toEqual({ kind: 'declined' });
  });

  it('is no answer when the ledger cannot be read or is not understood', () => {
    expect(ledgerVerdict(timedOut, 'charge:o1').kind).toBe('unknown');
    expect(ledgerVerdict(problem(503, 'SERVICE_UNAVAILABLE'), 'charge:o1').kind).toBe('unknown');
    expect(ledgerVerdict(answer(200, { not: 'a list' }), 'charge:o1').kind).toBe('unknown');
    expect(ledgerVerdict(answer(200, [{ idempotencyKey: 'charge:o1', status: 'SUCCEEDED' }]), 'charge:o1').kind).toBe('unknown');
  });
});

describe('the answer to a void of the charge key', () => {
  const charge = (status: string) => ({ id: 'ch_1', idempotencyKey: 'charge:o1', status });

  it('is voided when the void took the key or had taken it: nothing was charged, and nothing can be', () => {
    expect(voidVerdict(answer(201, charge('VOIDED')), 'charge:o1')).toEqual({ kind: 'voided' });
    expect(voidVerdict(answer(200, charge('VOIDED')), 'charge:o1')).toEqual({ kind: 'voided' });
  });

  it('names the charge to refund when a charge had the key first, and a decline as such', () => {
    expect(voidVerdict(answer(200, charge('SUCCEEDED')), 'charge:o1')).toEqual({ kind: 'charged', chargeId: 'ch_1', refundId: undefined });
    expect(voidVerdict(answer(200, charge('DECLINED')), 'charge:o1')).toEqual({ kind: 'declined' });
  });

  it('is no answer without a definite one, or for an entry of another key or status', () => {
    expect(voidVerdict(timedOut, 'charge:o1').kind).toBe('unknown');
    expect(voidVerdict(problem(503, 'SERVICE_UNAVAILABLE'), 'charge:o1').kind).toBe('unknown');
    expect(voidVerdict(problem(422, 'IDEMPOTENCY_KEY_REUSED'), 'charge:o1').kind).toBe('unknown');
    expect(voidVerdict(answer(201, { ...charge('VOIDED'), idempotencyKey: 'charge:o2' }), 'charge:o1').kind).toBe('unknown');
    expect(voidVerdict(answer(200, charge('PENDING')), 'charge:o1').kind).toBe('unknown');
  });

  it('is read the same way in a ledger entry, should a gateway list voids', () => {
    expect(ledgerVerdict(answer(200, [{ ...charge('VOIDED'), refunds: [] }]), 'charge:o1')).toEqual({ kind: 'voided' });
  });
});

it('settles the payments of a cancelled order that hold money or may still learn that they do', () => {
  const payment = (status: string, failureReason: string | null = null) => needsSettlement({ status, failureReason });
  expect(payment('SUCCEEDED')).toBe(true);
  expect(payment('CHARGE_PENDING')).toBe(true);
  expect(payment('FAILED', 'PAYMENT_ERROR')).toBe(true);
  expect(payment('FAILED', 'CARD_DECLINED')).toBe(false);
  expect(payment('FAILED', 'ORDER_CANCELLED')).toBe(false);
  expect(payment('REFUND_PENDING')).toBe(false);
  expect(payment('REFUNDED')).toBe(false);
  expect(payment('REFUND_FAILED')).toBe(false);
});

it('describes an answer for logs and last_error', () => {
  expect(describeAnswer(problem(503, 'TEMPORARILY_UNAVAILABLE', 'try again'))).toBe(
    'gateway answered 503 TEMPORARILY_UNAVAILABLE: try again',
  );
  expect(describeAnswer(answer(502, 'Bad Gateway'))).toBe('gateway answered 502');
  expect(describeAnswer(timedOut)).toBe('gateway unreachable: no answer within 5000 ms');
});
