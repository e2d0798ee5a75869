import { Type, type Static } from 'typebox';

// The HTTP surface of payment-svc: an order's payment, as its owner or an admin may see it.

export const PaymentQuery = Type.Object({ orderId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export const Payment = Type.Object({
  id: Type.String({ format: 'uuid' }),
  orderId: Type.String({ format: 'uuid' }),
  userId: Type.String({ format: 'uuid' }),
  amountCents: Type.Integer(),
  currency: Type.String(),
  status: Type.Enum(['CHARGE_PENDING', 'SUCCEEDED', 'FAILED', 'REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED'], {
    description: 'CHARGE_PENDING and REFUND_PENDING: the gateway has not answered definitely yet; asked again until it does',
  }),
  failureReason: Type.Optional(Type.String()),
  gatewayChargeId: Type.Optional(Type.String()),
  gatewayRefundId: Type.Optional(Type.String()),
  attempts: Type.Integer({ description: 'Tries of the charge, then of the refund' }),
  nextAttemptAt: Type.Optional(Type.String({ format: 'date-time', description: 'When a pending charge or refund is tried next' })),
  lastError: Type.Optional(Type.String({ description: "Why the last try did not settle it, or the gateway's refusal" })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Payment = Static<typeof Payment>;

export const Payments = Type.Array(Payment);
