// What each answer of the gateway means for a payment, as pure functions: the handlers and the
// retry job do the I/O, these decide. The line that matters everywhere is between a definite
// answer (the gateway decided; act on it) and no definite answer (a timeout, a lost
// connection, a 5xx: the gateway may or may not have acted, so ask again under the same
// idempotency key, which can never charge or refund twice).

/** What came back from one gateway call: an HTTP answer, or nothing usable. */
export type GatewayAnswer = { status: number; body: unknown } | { unreachable: string };

export type ChargeVerdict =
  | { kind: 'charged'; chargeId: string }
  | { kind: 'declined'; detail: string }
  /** A definite refusal other than a decline: the payment fails with PAYMENT_ERROR. */
  | { kind: 'failed'; detail: string }
  | { kind: 'unknown'; detail: string };

export type RefundVerdict =
  | { kind: 'refunded'; refundId: string }
  /** Refunded under another key (by hand, say): the money is back; the ledger names the refund. */
  | { kind: 'already-refunded'; detail: string }
  | { kind: 'refused'; detail: string }
  | { kind: 'unknown'; detail: string };

/** What the ledger holds for the order's charge key. */
export type LedgerVerdict =
  | { kind: 'charged'; chargeId: string; refundId: string | undefined }
  | { kind: 'declined' }
  /** Voided by this service: nothing was charged, and nothing can be under the key. */
  | { kind: 'voided' }
  | { kind: 'absent' }
  | { kind: 'unknown'; detail: string };

/** What the key holds once the void was asked: never absent (the void took it, or something had). */
export type VoidVerdict = Exclude<LedgerVerdict, { kind: 'absent' }>;

const field = (body: unknown, name: string): unknown =>
  typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;

const text = (body: unknown, name: string): string | undefined => {
  const value = field(body, name);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

/** "gateway answered 503 TEMPORARILY_UNAVAILABLE: …" or "gateway unreachable: …", for logs, last_error and event details. */
export function describeAnswer(answer: GatewayAnswer): string {
  if ('unreachable' in answer) return `gateway unreachable: ${answer.unreachable}`;
  const code = text(answer.body, 'code');
  const detail = text(answer.body, 'detail');
  return `gateway answered ${answer.status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`;
}

/**
 * Statuses that decide nothing: a 5xx, 408 or 429 (the request was not processed; a processor
 * says so to be asked again later), and anything that is neither a success nor a refusal.
 */
const undecided = (status: number) => status >= 500 || status === 408 || status === 429 || status < 400;

export function chargeVerdict(answer: GatewayAnswer): ChargeVerdict {
  const detail = describeAnswer(answer);
  if ('unreachable' in answer) return { kind: 'unknown', detail };
  const { status, body } = answer;
  if (status === 200 || status === 201) {
    const chargeId = text(body, 'id');
    // A success that does not name the charge cannot be refunded later: ask again for it.
    return chargeId ? { kind: 'charged', chargeId } : { kind: 'unknown', detail: `${detail} without a charge id` };
  }
  if (undecided(status)) return { kind: 'unknown', detail };
  if (status === 402 || (status === 400 && text(body, 'code') === 'INVALID_TOKEN')) return { kind: 'declined', detail };
  // Only a cancellation voids the key: one whose transaction rolled back after its void, and
  // which its redelivery will settle. The payment is no PAYMENT_ERROR; it waits for that.
  if (status === 409 && text(body, 'code') === 'CHARGE_VOIDED') return { kind: 'unknown', detail };
  return { kind: 'failed', detail };
}

export function refundVerdict(answer: GatewayAnswer): RefundVerdict {
  const detail = describeAnswer(answer);
  if ('unreachable' in answer) return { kind: 'unknown', detail };
  const { status, body } = answer;
  if (status === 200 || status === 201) {
    const refundId = text(body, 'id');
    return refundId ? { kind: 'refunded', refundId } : { kind: 'unknown', detail: `${detail} without a refund id` };
  }
  if (undecided(status)) return { kind: 'unknown', detail };
  if (status === 409 && text(body, 'code') === 'ALREADY_REFUNDED') return { kind: 'already-refunded', detail };
  return { kind: 'refused', detail };
}

/** The ledger of an order (GET /charges?reference=), reduced to the one charge made under `chargeKey`. */
export function ledgerVerdict(answer: GatewayAnswer, chargeKey: string): LedgerVerdict {
  if ('unreachable' in answer || answer.status !== 200 || !Array.isArray(answer.body)) {
    return { kind: 'unknown', detail: `the ledger could not be read: ${describeAnswer(answer)}` };
  }
  // The key is unique in the ledger: any other charge of the reference is not this order's to refund.
  const charge: unknown = answer.body.find((entry) => text(entry, 'idempotencyKey') === chargeKey);
  if (charge === undefined) return { kind: 'absent' };
  return entryVerdict(charge, chargeKey, field(charge, 'refunds'));
}

/**
 * The answer to a void (POST /charges/void): 201, the key voided; 200, what the key held
 * already (a charge, a decline, an earlier void), which the void left as it was.
 */
export function voidVerdict(answer: GatewayAnswer, chargeKey: string): VoidVerdict {
  if ('unreachable' in answer || (answer.status !== 200 && answer.status !== 201)) {
    return { kind: 'unknown', detail: `the charge could not be voided: ${describeAnswer(answer)}` };
  }
  return entryVerdict(answer.body, chargeKey, []);
}

function entryVerdict(charge: unknown, chargeKey: string, refunds: unknown): VoidVerdict {
  const chargeId = text(charge, 'id');
  const status = field(charge, 'status');
  if (!chargeId || text(charge, 'idempotencyKey') !== chargeKey || !Array.isArray(refunds)) {
    return { kind: 'unknown', detail: `the gateway's entry for ${chargeKey} is not understood` };
  }
  switch (status) {
    case 'SUCCEEDED':
      return { kind: 'charged', chargeId, refundId: refunds.map((refund) => text(refund, 'id')).find((id) => id !== undefined) };
    case 'DECLINED':
      return { kind: 'declined' };
    case 'VOIDED':
      return { kind: 'voided' };
    default:
      return { kind: 'unknown', detail: `the gateway's entry for ${chargeKey} is not understood` };
  }
}

/** Whether a cancelled order's payment may hold money to give back (or still learn that it does). */
export function needsSettlement(payment: { status: string; failureReason: string | null }): boolean {
  if (payment.status === 'SUCCEEDED' || payment.status === 'CHARGE_PENDING') return true;
  // PAYMENT_ERROR: the gateway refused in a way that is not a decline; a charge under the key
  // may still exist (an earlier attempt's), so the key is voided, which answers with it.
  return payment.status === 'FAILED' && payment.failureReason === 'PAYMENT_ERROR';
}
