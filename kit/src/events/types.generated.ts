// Generated from schemas/*.avsc by kit/src/events/generate-types.ts. Do not edit:
// change the schema and run `npm run generate:events`.

export type ProductChange = 'CREATED' | 'UPDATED' | 'DELETED' | 'STOCK_CHANGED';

/** A product changed: created, updated, deleted (made inactive), or its stock moved. Key: the product id. Carries the product as it is after the change; `version` orders the changes of one product. */
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

/** The value type of each event topic. */
export interface EventsByTopic {
  'product-update': ProductUpdated;
  'user-registration': UserRegistered;
}

export type EventTopic = keyof EventsByTopic;

export const eventTopics = ['product-update', 'user-registration'] as const satisfies readonly EventTopic[];

export type ProductUpdateEvent = ProductUpdated;
export type UserRegistrationEvent = UserRegistered;
