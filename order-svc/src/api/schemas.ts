import { Type, type Static } from 'typebox';

const Uuid = Type.String({ format: 'uuid' });

export const PlaceOrderBody = Type.Object(
  {
    items: Type.Array(
      // With product-svc's price bound (10^9 minor units), 50 lines of 1,000 units total at most
      // 5·10^13: an order's total is always an exact number.
      Type.Object({ productId: Uuid, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) }, { additionalProperties: false }),
      {
        minItems: 1,
        maxItems: 50,
      },
    ),
    paymentToken: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Card token to charge; tok_ok when absent' })),
  },
  { additionalProperties: false },
);

export const PlaceOrderHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'Retrying with the same key and body returns the same order' }),
  ),
});

export const OrderParams = Type.Object({ id: Uuid });

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const AdminOrderQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(['PENDING', 'CONFIRMED', 'CANCELLED'])),
    userId: Type.Optional(Uuid),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Placed at or after this instant' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Placed before this instant' })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const Order = Type.Object({
  id: Uuid,
  userId: Uuid,
  status: Type.Enum(['PENDING', 'CONFIRMED', 'CANCELLED']),
  cancelReason: Type.Optional(
    Type.Enum(['PAYMENT_DECLINED', 'OUT_OF_STOCK', 'PAYMENT_ERROR', 'TIMED_OUT', 'CUSTOMER_CANCELLED', 'ADMIN_CANCELLED']),
  ),
  items: Type.Array(Type.Object({ productId: Uuid, quantity: Type.Integer(), unitPriceCents: Type.Integer() })),
  totalCents: Type.Integer(),
  currency: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Order = Static<typeof Order>;

export const OrderPage = Type.Object({ items: Type.Array(Order), nextCursor: Type.Union([Type.String(), Type.Null()]) });
