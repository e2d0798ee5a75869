// The event catalogue: for every topic, the aggregate its key identifies, the service whose
// outbox it leaves through and when, the services that consume it and what each does with
// it, and one example value. The Avro source of each topic is schemas/<topic>.avsc and its
// TypeScript type is generated from that (types.generated.ts). The service manifest
// (services.ts) derives what each service produces and consumes from here; the AsyncAPI
// document and docs/events.md are generated or checked from here.
import type { ServiceName } from '../services.ts';
import type { EventsByTopic, EventTopic } from './types.generated.ts';

export type * from './types.generated.ts';
export { eventTopics } from './types.generated.ts';

export type Aggregate = 'user' | 'product' | 'order';

export interface EventEntry<T extends EventTopic> {
  /** What the record key identifies (the outbox row's aggregatetype; aggregateid is the key). */
  aggregate: Aggregate;
  producer: ServiceName;
  /** When the producer writes one. */
  when: string;
  /** The consumer groups (named after their service) and what each does with the event. */
  consumers: Partial<Record<ServiceName, string>>;
  example: EventsByTopic[T];
}

const ids = {
  user: '6f1c2a9e-3b7d-4c41-9a55-0d2e8b7f4c13',
  product: '0b8e4d1a-7c62-4f3e-8d59-2a41c6e9b705',
  order: 'c3a7f215-9d84-4b6e-a1f0-5e2d7b93c864',
  payment: '9e45b1c7-2f63-4a8d-b0e9-71c5d3a28f46',
} as const;
const at = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const charge = 'ch_5b0f3c1e-8a27-4d96-b3e1-6c9f20d7a458';

export const eventCatalogue: { [T in EventTopic]: EventEntry<T> } = {
  'user-registration': {
    aggregate: 'user',
    producer: 'user-svc',
    when: 'an account is created (POST /users, and the admin account at first start)',
    consumers: {
      'order-svc': 'remembers the user in known_users, so that the user may place orders',
      'notification-svc': "remembers the user's email address and records a welcome mail",
    },
    example: { userId: ids.user, username: 'alice', email: 'alice@example.com', fullName: 'Alice', role: 'customer', registeredAt: at },
  },
  'user-updated': {
    aggregate: 'user',
    producer: 'user-svc',
    when: 'an account changed: its email or full name (PATCH /users/me), its password (which revokes its tokens), an admin disabled it, or its user logged out (which revokes its tokens too)',
    consumers: {
      'order-svc': 'keeps its copy of the user (refuses new orders of a disabled account) and refuses revoked tokens',
      'product-svc': 'refuses revoked tokens and the tokens of a disabled account (the kit keeps account_states)',
      'payment-svc': 'refuses revoked tokens and the tokens of a disabled account (the kit keeps account_states)',
      'notification-svc': "keeps the user's current email address, unless it already holds a newer version, for the mails still to send",
    },
    example: {
      userId: ids.user,
      change: 'PROFILE_CHANGED',
      before: {
        username: 'alice',
        email: 'alice@example.com',
        fullName: 'Alice',
        role: 'customer',
        disabled: false,
        tokenGeneration: 1,
        version: 1,
      },
      after: {
        username: 'alice',
        email: 'alice@example.org',
        fullName: 'Alice Liddell',
        role: 'customer',
        disabled: false,
        tokenGeneration: 1,
        version: 2,
      },
      updatedAt: at + 60_000,
    },
  },
  'product-update': {
    aggregate: 'product',
    producer: 'product-svc',
    when: 'a product is created, changed or deactivated, and whenever its stock moves (reservation, release)',
    consumers: { 'order-svc': 'keeps its catalog copy (price, currency, active) unless it already holds a newer version' },
    example: {
      productId: ids.product,
      change: 'STOCK_CHANGED',
      name: 'Mug',
      description: 'Blue, 300 ml',
      priceCents: 1299,
      currency: 'EUR',
      stock: 8,
      active: true,
      version: 2,
      updatedAt: at + 1_000,
      before: { name: 'Mug', description: 'Blue, 300 ml', priceCents: 1299, currency: 'EUR', stock: 10, active: true, version: 1 },
      createdAt: at,
    },
  },
  'order-placed': {
    aggregate: 'order',
    producer: 'order-svc',
    when: 'an order is accepted as PENDING (POST /orders)',
    consumers: {
      'payment-svc':
        'charges the total through the gateway (idempotency key charge:<order id>) and writes payment-success or payment-failure',
      'product-svc': 'reserves stock for every line or for none and writes inventory-reserved or inventory-rejected',
    },
    example: {
      orderId: ids.order,
      userId: ids.user,
      items: [{ productId: ids.product, quantity: 2, unitPriceCents: 1299 }],
      totalCents: 2598,
      currency: 'EUR',
      paymentToken: 'tok_ok',
      placedAt: at + 1_000,
    },
  },
  'order-confirmed': {
    aggregate: 'order',
    producer: 'order-svc',
    when: 'both the payment and the stock of a PENDING order succeeded',
    consumers: { 'notification-svc': 'records a confirmation mail to the customer' },
    example: { orderId: ids.order, userId: ids.user, totalCents: 2598, currency: 'EUR', confirmedAt: at + 2_000 },
  },
  'order-cancelled': {
    aggregate: 'order',
    producer: 'order-svc',
    when: 'the first failure (payment or stock) of a PENDING order is reported, the order is still PENDING at its deadline (TIMED_OUT), or its customer or an admin cancels it (CUSTOMER_CANCELLED, ADMIN_CANCELLED)',
    consumers: {
      'payment-svc': 'refunds a successful charge (idempotency key refund:<order id>) and writes payment-refunded',
      'product-svc': 'gives a reservation back (product-update STOCK_CHANGED), or remembers a cancellation that came first',
      'notification-svc': 'records a mail to the customer saying, in words, why the order was cancelled',
    },
    example: { orderId: ids.order, userId: ids.user, reason: 'OUT_OF_STOCK', cancelledAt: at + 2_000 },
  },
  'payment-success': {
    aggregate: 'order',
    producer: 'payment-svc',
    when: 'the gateway charged the order',
    consumers: { 'order-svc': 'records the payment outcome; confirms the order when its stock is reserved too' },
    example: {
      paymentId: ids.payment,
      orderId: ids.order,
      userId: ids.user,
      amountCents: 2598,
      currency: 'EUR',
      gatewayChargeId: charge,
      processedAt: at + 1_500,
    },
  },
  'payment-failure': {
    aggregate: 'order',
    producer: 'payment-svc',
    when: 'the card was declined, or the gateway refused the charge for another reason (PAYMENT_ERROR)',
    consumers: { 'order-svc': 'cancels the order (PAYMENT_DECLINED or PAYMENT_ERROR) unless it is already final' },
    example: {
      paymentId: ids.payment,
      orderId: ids.order,
      userId: ids.user,
      amountCents: 2598,
      currency: 'EUR',
      reason: 'CARD_DECLINED',
      detail: `The card was declined (charge ${charge}).`,
      processedAt: at + 1_500,
    },
  },
  'payment-refunded': {
    aggregate: 'order',
    producer: 'payment-svc',
    when: 'the charge of a cancelled order was refunded',
    consumers: { 'notification-svc': 'records a mail to the customer with the refunded amount' },
    example: {
      paymentId: ids.payment,
      orderId: ids.order,
      userId: ids.user,
      amountCents: 2598,
      currency: 'EUR',
      gatewayChargeId: charge,
      gatewayRefundId: 're_7d2a9f04-1c5b-4e83-9b6d-3f8e0a1c2b57',
      refundedAt: at + 3_000,
    },
  },
  'inventory-reserved': {
    aggregate: 'order',
    producer: 'product-svc',
    when: 'stock for every line of an order was taken',
    consumers: { 'order-svc': 'records the stock outcome; confirms the order when its payment succeeded too' },
    example: { orderId: ids.order, items: [{ productId: ids.product, quantity: 2 }], reservedAt: at + 1_500 },
  },
  'inventory-rejected': {
    aggregate: 'order',
    producer: 'product-svc',
    when: 'at least one line of an order could not be served, so nothing was reserved',
    consumers: { 'order-svc': 'cancels the order (OUT_OF_STOCK) unless it is already final' },
    example: { orderId: ids.order, shortages: [{ productId: ids.product, requested: 2, available: 1 }], rejectedAt: at + 1_500 },
  },
};
