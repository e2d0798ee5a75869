import { StagedWrites, type Sql, type Transaction } from '@shop/kit';
import type { NotificationKind, RenderedMail } from '../domain/mails.ts';

type Db = Sql | Transaction;

export type NotificationStatus = 'PENDING' | 'SENT' | 'FAILED' | 'EXPIRED';

/** A notification as stored: the rendered mail and its sent log. */
export interface NotificationRow {
  eventId: string;
  userId: string;
  kind: NotificationKind;
  subject: string;
  body: string;
  occurredAt: Date;
  createdAt: Date;
  status: NotificationStatus;
  sentAt: Date | null;
  attempts: number;
}

/** A user's contact details as of `version` (1 at registration, one more at every change). */
export interface Recipient {
  userId: string;
  username: string;
  email: string;
  fullName: string | null;
  version: number;
}

/** A pending notification whose recipient is known, locked for sending. */
export interface DueNotification {
  eventId: string;
  subject: string;
  body: string;
  attempts: number;
  email: string;
  fullName: string | null;
}

const columns = (sql: Db) => sql`event_id, user_id, kind, subject, body, occurred_at, created_at, status, sent_at, attempts`;

/** Stores a recipient's details unless a newer version of them is already there. */
export async function upsertRecipient(tx: Transaction, recipient: Recipient): Promise<void> {
  await tx`
    insert into recipients ${tx(recipient, 'userId', 'username', 'email', 'fullName', 'version')}
    on conflict (user_id) do update set
      username = excluded.username, email = excluded.email, full_name = excluded.full_name, version = excluded.version
    where recipients.version < excluded.version`;
}

/** The mails of a transaction's events, not written yet. */
const stagedNotifications = new StagedWrites<RenderedMail & { eventId: string }>();

/**
 * Stages the mail of an event for saveStagedNotifications, which writes a transaction's in one
 * statement: a consumed batch's events cost one insert between them instead of one each.
 */
export function stageNotification(tx: Transaction, eventId: string, mail: RenderedMail): void {
  stagedNotifications.stage(tx, { eventId, ...mail });
}

/**
 * Stores the mails the transaction staged, each once: processed_events already keeps a
 * redelivered event from getting here, and the event id as the key makes a second row
 * impossible anyway.
 */
export async function saveStagedNotifications(tx: Transaction): Promise<void> {
  const staged = stagedNotifications.take(tx);
  if (!staged) return;
  const column = <K extends keyof (typeof staged.changes)[number]>(key: K) => staged.changes.map((mail) => mail[key]);
  // As text: postgres.js sends an array of Dates as one timestamp, not as an array.
  await tx`
    insert into notifications (event_id, user_id, kind, subject, body, occurred_at)
    select * from unnest(
      ${column('eventId')}::uuid[], ${column('userId')}::uuid[], ${column('kind')}::text[], ${column('subject')}::text[],
      ${column('body')}::text[], ${staged.changes.map((mail) => mail.occurredAt.toISOString())}::timestamptz[])
    on conflict (event_id) do nothing`;
}

export async function findNotification(sql: Sql, userId: string, eventId: string): Promise<NotificationRow | undefined> {
  const [row] = await sql<NotificationRow[]>`
    select ${columns(sql)} from notifications where event_id = ${eventId} and user_id = ${userId}`;
  return row;
}

/** A user's notifications, newest first, after the one `before` names (a row of the same user). */
export function notificationsOfUser(sql: Sql, userId: string, limit: number, before: string | undefined): Promise<NotificationRow[]> {
  const position = before
    ? sql`and (occurred_at, event_id) < (select occurred_at, event_id from notifications where event_id = ${before})`
    : sql``;
  return sql<NotificationRow[]>`
    select ${columns(sql)} from notifications
    where user_id = ${userId} ${position}
    order by occurred_at desc, event_id desc
    limit ${limit}`;
}

/**
 * Up to `limit` pending notifications that are due and whose recipient's address is known,
 * the longest due first, locked until the transaction ends; those another sender holds are
 * skipped, not waited for. The address is the recipient's now, not when the event happened.
 * A notification of a user this service has not heard of yet is left waiting for their
 * user-registration.
 */
export function lockDueNotifications(tx: Transaction, limit: number, maxAgeMs: number): Promise<DueNotification[]> {
  return tx<DueNotification[]>`
    select n.event_id, n.subject, n.body, n.attempts, r.email, r.full_name
    from notifications n join recipients r on r.user_id = n.user_id
    where n.status = 'PENDING' and n.next_attempt_at <= now()
      and n.occurred_at >= now() - make_interval(secs => ${maxAgeMs / 1000}::double precision)
    order by n.next_attempt_at
    limit ${limit}
    for update of n skip locked`;
}

/** Marks mails the SMTP server accepted, each with the address it went to, in one statement. */
export async function markSent(tx: Transaction, sent: { eventId: string; sentTo: string }[]): Promise<void> {
  await tx`
    update notifications n
    set status = 'SENT', sent_at = now(), sent_to = accepted.sent_to, attempts = n.attempts + 1, last_error = null
    from unnest(${sent.map((mail) => mail.eventId)}::uuid[], ${sent.map((mail) => mail.sentTo)}::text[]) as accepted (event_id, sent_to)
    where n.event_id = accepted.event_id`;
}

/** Records a failed try: tried again after `retryInMs`, or, without it, given up (FAILED). */
export async function markFailed(tx: Transaction, eventId: string, error: string, retryInMs: number | undefined): Promise<void> {
  const next =
    retryInMs === undefined
      ? tx`status = 'FAILED'`
      : tx`next_attempt_at = now() + make_interval(secs => ${retryInMs / 1000}::double precision)`;
  await tx`
    update notifications set ${next}, attempts = attempts + 1, last_error = ${error}
    where event_id = ${eventId}`;
}

/**
 * Deletes up to `limit` notifications that are done (sent, refused, expired) and whose event
 * is older than `keepMs`; returns how many. A PENDING one is never deleted: it expires first.
 */
export async function deleteOldNotifications(sql: Sql, keepMs: number, limit: number): Promise<number> {
  const deleted = await sql`
    delete from notifications where event_id in (
      select event_id from notifications
      where status <> 'PENDING' and occurred_at < now() - make_interval(secs => ${keepMs / 1000}::double precision)
      order by occurred_at limit ${limit} for update skip locked)`;
  return deleted.count;
}

/**
 * Gives up the pending notifications whose event is older than `maxAgeMs` (EXPIRED): their
 * recipient's address never arrived, or SMTP failed for that long, and a mail that late
 * would confuse more than it tells. Returns how many.
 */
export async function expirePending(sql: Sql, maxAgeMs: number): Promise<number> {
  const expired = await sql`
    update notifications
    set status = 'EXPIRED',
        last_error = coalesce(last_error, 'the recipient''s address never became known')
    where status = 'PENDING' and occurred_at < now() - make_interval(secs => ${maxAgeMs / 1000}::double precision)`;
  return expired.count;
}
