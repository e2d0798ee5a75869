// The events user-svc writes to its outbox, one typed constructor per topic.
import { outboxEvent, type UserChange, type UserState } from '@shop/kit';
import type { UserRow } from './users.ts';

export const userRegistration = (user: UserRow) =>
  outboxEvent('user-registration', user.id, {
    userId: user.id,
    username: user.username,
    email: user.email,
    fullName: user.fullName,
    role: user.role,
    registeredAt: user.createdAt.getTime(),
  });

/** What other services may know of an account: never its password hash. */
const stateOf = (user: UserRow): UserState => ({
  username: user.username,
  email: user.email,
  fullName: user.fullName,
  role: user.role,
  disabled: user.disabledAt !== null,
  tokenGeneration: user.tokenGeneration,
  version: user.version,
});

export const userUpdated = (before: UserRow, after: UserRow, change: UserChange) =>
  outboxEvent('user-updated', after.id, {
    userId: after.id,
    change,
    before: stateOf(before),
    after: stateOf(after),
    updatedAt: after.updatedAt.getTime(),
  });
