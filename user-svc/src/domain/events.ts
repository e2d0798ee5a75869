// The events user-svc writes to its outbox, one typed constructor per topic.
import { outboxEvent } from '@shop/kit';
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
