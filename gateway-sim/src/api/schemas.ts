import { CURRENCY_PATTERN } from '@shop/kit';
import { Type, type Static } from 'typebox';

// The HTTP surface of the gateway simulator: charges, voids and refunds, each once per
// idempotency key, and the ledger of a reference. Amounts are integer minor units.

const Key = Type.String({ minLength: 1, maxLength: 200 });

export const ChargeBody = Type.Object(
  {
    // At most 2^53 - 1: JSON.parse rounds a larger integer before the schema sees it, so a
    // higher bound would accept, and charge, an amount nobody sent.
    amountCents: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    currency: Type.String({ pattern: CURRENCY_PATTERN }),
    token: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'A test card: tok_ok, tok_decline, tok_flaky, tok_slow, tok_unavailable, tok_refund_unavailable or tok_refund_refused',
    }),
    reference: Type.String({ minLength: 1, maxLength: 200, description: "The merchant's reference, e.g. the order id" }),
    idempotencyKey: Key,
  },
  { additionalProperties: false },
);
export type ChargeBody = Static<typeof ChargeBody>;

export const VoidBody = Type.Object(
  {
    amountCents: ChargeBody.properties.amountCents,
    currency: ChargeBody.properties.currency,
    reference: ChargeBody.properties.reference,
    idempotencyKey: Key,
  },
  { additionalProperties: false },
);

export const RefundBody = Type.Object({ chargeId: Type.String({ minLength: 1 }), idempotencyKey: Key }, { additionalProperties: false });

export const LedgerQuery = Type.Object({ reference: Type.String({ minLength: 1 }) }, { additionalProperties: false });

export const Refund = Type.Object({
  id: Type.String(),
  chargeId: Type.String(),
  idempotencyKey: Type.String(),
  amountCents: Type.Integer(),
  createdAt: Type.String(),
});
export type Refund = Static<typeof Refund>;

export const Charge = Type.Object({
  id: Type.String(),
  idempotencyKey: Type.String(),
  reference: Type.String(),
  amountCents: Type.Integer(),
  currency: Type.String(),
  status: Type.Enum(['SUCCEEDED', 'DECLINED', 'VOIDED']),
  createdAt: Type.String(),
});
export type Charge = Static<typeof Charge>;

export const ChargeWithRefunds = Type.Object({ ...Charge.properties, refunds: Type.Array(Refund) });

export const Ledger = Type.Array(ChargeWithRefunds);
