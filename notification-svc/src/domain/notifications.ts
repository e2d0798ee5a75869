// What notification-svc does with the events it consumes (inside the consumer's transaction,
// so exactly once) and what it answers about them.
import {
  invalidCursor,
  keysetPage,
  type BatchFinisher,
  type Sql,
  type Transaction,
  type UserRegistered,
  type UserUpdated,
} from '@shop/kit';
import {
  findNotification,
  notificationsOfUser,
  saveStagedNotifications,
  stageNotification,
  upsertRecipient,
  type NotificationRow,
} from '../data-access/notifications-repository.ts';
import type { RenderedMail } from './mails.ts';
import { notificationProblems } from './problems.ts';

/**
 * Records the mail of an event, to be sent by the sender job. Sending here would be wrong:
 * the mail could go out and the transaction still roll back (a crash, a failed commit), and
 * the redelivered event would send it again; a row commits with the event id or not at all.
 * The row is staged, and written with the batch's others by saveNotifications.
 */
export function recordNotification(tx: Transaction, eventId: string, mail: RenderedMail): void {
  stageNotification(tx, eventId, mail);
}

/** Writes, last in a consumed batch's transaction, the mails its events staged: one statement for the batch. */
export const saveNotifications: BatchFinisher = saveStagedNotifications;

/** user-registration: the user's address (version 1 of the account). */
export async function rememberRegisteredUser(tx: Transaction, registration: UserRegistered): Promise<void> {
  await upsertRecipient(tx, {
    userId: registration.userId,
    username: registration.username,
    email: registration.email,
    fullName: registration.fullName,
    version: 1,
  });
}

/** user-updated: the user's address as changed, unless a newer version of it is already known. */
export async function rememberUpdatedUser(tx: Transaction, update: UserUpdated): Promise<void> {
  await upsertRecipient(tx, {
    userId: update.userId,
    username: update.after.username,
    email: update.after.email,
    fullName: update.after.fullName,
    version: update.after.version,
  });
}

/** A page of the user's notifications, newest first; `before` is the last of the previous page, the user's own. */
export async function listNotifications(sql: Sql, userId: string, limit: number, before: string | undefined) {
  if (before !== undefined && !(await findNotification(sql, userId, before))) throw invalidCursor();
  const rows = await notificationsOfUser(sql, userId, limit + 1, before);
  return keysetPage(rows, limit, (notification) => notification.eventId);
}

/** One of the user's notifications; 404 for anyone else's, as for one that does not exist. */
export async function getNotification(sql: Sql, userId: string, eventId: string): Promise<NotificationRow> {
  const row = await findNotification(sql, userId, eventId);
  if (!row) throw notificationProblems.NOTIFICATION_NOT_FOUND('No notification of yours has this id.');
  return row;
}
