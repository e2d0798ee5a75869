// Generated from schemas/*.avsc by kit/src/events/generate-types.ts. Do not edit:
// change the schema and run `npm run generate:events`.

export interface Shortage {
  productId: string;
  requested: number;
  /** 0 for an unknown or inactive product */
  available: number;
}

/** At least one line of the order could not be served, so nothing was reserved. Key: the order id. */
export interface InventoryRejected {
  orderId: string;
  shortages: Shortage[];
  rejectedAt: number;
}

export interface ReservedLine {
  productId: string;
  quantity: number;
}

/** Stock for every line of the order was taken. Key: the order id. */
export interface InventoryReserved {
  orderId: string;
  items: ReservedLine[];
  reservedAt: number;
}

export type CancelReason = 'PAYMENT_DECLINED' | 'OUT_OF_STOCK' | 'PAYMENT_ERROR' | 'TIMED_OUT' | 'CUSTOMER_CANCELLED' | 'ADMIN_CANCELLED';

/** The payment or the stock failed, the order was still PENDING at its deadline (TIMED_OUT: a report was missing), or its customer or an admin cancelled it (a CONFIRMED order too); the order is final. Key: the order id. Payments refund a successful charge, products release a reservation. */
export interface OrderCancelled {
  orderId: string;
  userId: string;
  reason: CancelReason;
  cancelledAt: number;
}

/** Payment and stock both succeeded; the order is final. Key: the order id. */
export interface OrderConfirmed {
  orderId: string;
  userId: string;
  totalCents: number;
  currency: string;
  confirmedAt: number;
}

export interface OrderLine {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

/** An order was accepted (PENDING) and waits for its payment and its stock. Key: the order id. Prices are order-svc's copy of the catalog at the time of the order. */
export interface OrderPlaced {
  orderId: string;
  userId: string;
  items: OrderLine[];
  totalCents: number;
  /** ISO 4217 code */
  currency: string;
  /** The card token the payment service charges (a processor token, never card data) */
  paymentToken: string;
  placedAt: number;
}

export type PaymentFailureReason = 'CARD_DECLINED' | 'PAYMENT_ERROR';

/** The order's amount could not be charged: the card was declined, or the processor kept failing. Key: the order id. */
export interface PaymentFailed {
  paymentId: string;
  orderId: string;
  userId: string;
  amountCents: number;
  currency: string;
  reason: PaymentFailureReason;
  detail: string;
  processedAt: number;
}

/** A successful charge was refunded in full (the order was cancelled). Key: the order id. */
export interface PaymentRefunded {
  paymentId: string;
  orderId: string;
  userId: string;
  amountCents: number;
  currency: string;
  gatewayChargeId: string;
  gatewayRefundId: string;
  refundedAt: number;
}

/** The order's amount was charged. Key: the order id. */
export interface PaymentSucceeded {
  paymentId: string;
  orderId: string;
  userId: string;
  amountCents: number;
  currency: string;
  gatewayChargeId: string;
  processedAt: number;
}

export type ProductChange = 'CREATED' | 'UPDATED' | 'DELETED' | 'STOCK_CHANGED';

export interface ProductState {
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stock: number;
  active: boolean;
  version: number;
}

/** A product changed: created, updated, deleted (made inactive), or its stock moved. Key: the product id. Carries the product as it is after the change (its creation time since version 3 of this schema), and (since version 2) as it was before; `version` orders the changes of one product. */
export interface ProductUpdated {
  productId: string;
  change: ProductChange;
  name: string;
  description: string;
  priceCents: number;
  /** ISO 4217 code */
  currency: string;
  stock: number;
  active: boolean;
  version: number;
  updatedAt: number;
  /** The product before the change; null when it was created, and in records written before version 2 of this schema */
  before: null | ProductState;
  /** When the product was created, so that the newest record of a key is the whole product; null in records written before version 3 of this schema */
  createdAt: null | number;
}

export type Role = 'customer' | 'admin';

/** A user account was created. Key: the user id. Never carries the password or its hash. */
export interface UserRegistered {
  userId: string;
  username: string;
  email: string;
  fullName: null | string;
  role: Role;
  registeredAt: number;
}

export type UserChange = 'PROFILE_CHANGED' | 'PASSWORD_CHANGED' | 'DISABLED' | 'LOGGED_OUT';

export interface UserState {
  username: string;
  email: string;
  fullName: null | string;
  role: Role;
  disabled: boolean;
  /** Access tokens carry the generation they were issued in (claim gen); one of an older generation is refused. A password change and a logout raise it */
  tokenGeneration: number;
  /** 1 at registration, one more at every change */
  version: number;
}

/** A user account changed: its profile (email, full name), its password, it was disabled, or its user logged out (which revokes its tokens). Key: the user id. Carries the account before and after the change, never the password or its hash; `after.version` orders the changes of one account. */
export interface UserUpdated {
  userId: string;
  change: UserChange;
  before: UserState;
  after: UserState;
  updatedAt: number;
}

/** The value type of each event topic. */
export interface EventsByTopic {
  'inventory-rejected': InventoryRejected;
  'inventory-reserved': InventoryReserved;
  'order-cancelled': OrderCancelled;
  'order-confirmed': OrderConfirmed;
  'order-placed': OrderPlaced;
  'payment-failure': PaymentFailed;
  'payment-refunded': PaymentRefunded;
  'payment-success': PaymentSucceeded;
  'product-update': ProductUpdated;
  'user-registration': UserRegistered;
  'user-updated': UserUpdated;
}

export type EventTopic = keyof EventsByTopic;

export const eventTopics = ['inventory-rejected', 'inventory-reserved', 'order-cancelled', 'order-confirmed', 'order-placed', 'payment-failure', 'payment-refunded', 'payment-success', 'product-update', 'user-registration', 'user-updated'] as const satisfies readonly EventTopic[];

export type InventoryRejectedEvent = InventoryRejected;
export type InventoryReservedEvent = InventoryReserved;
export type OrderCancelledEvent = OrderCancelled;
export type OrderConfirmedEvent = OrderConfirmed;
export type OrderPlacedEvent = OrderPlaced;
export type PaymentFailureEvent = PaymentFailed;
export type PaymentRefundedEvent = PaymentRefunded;
export type PaymentSuccessEvent = PaymentSucceeded;
export type ProductUpdateEvent = ProductUpdated;
export type UserRegistrationEvent = UserRegistered;
export type UserUpdatedEvent = UserUpdated;
