// notification-svc's mail sender against the real PostgreSQL, in a scratch database with the
// service's tables, and a real SMTP server of the test's own (smtp-server, the library MailDev
// is built on) that accepts some recipients, refuses one for good (550) and one for now (451).
// The running service's sender never sees these rows. What each outcome leaves on its row,
// that one batch's failure does not hold back its accepted mails, and that a server that
// cannot be reached, or refuses every mail alike, ends the run after one batch.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deleteInBatches, migrate, migratePlatform, type Logger, type Sql } from '@shop/kit';
import { deleteOldNotifications, lockDueNotifications } from '../../notification-svc/src/data-access/notifications-repository.ts';
import { smtpMailer, type Mailer } from '../../notification-svc/src/data-access/smtp-mailer.ts';
import { messageIdOf } from '../../notification-svc/src/domain/mails.ts';
import { sendDueNotifications, type SendOutcome, type SenderDependencies } from '../../notification-svc/src/domain/sending.ts';
import { connectAsSuperuser } from '../harness/stack.ts';

const database = 'notification_sender_test';
const concurrency = 4;
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let sql: Sql;
let server: SMTPServer;
let mailer: Mailer;
/** The Message-ID of every mail the SMTP server accepted, in order. */
let accepted: string[] = [];

beforeAll(async () => {
  const admin = connectAsSuperuser('postgres', 1);
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.unsafe(`create database ${database}`);
  await admin.end();
  sql = connectAsSuperuser(database, concurrency);
  await sql`create publication outbox with (publish = 'insert')`;
  await migratePlatform(sql);
  await migrate(sql, fileURLToPath(new URL('../../notification-svc/migrations/', import.meta.url)), 'service_migrations');

  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const refusal = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });
      if (address.address.startsWith('refused')) return callback(refusal('no such mailbox', 550));
      if (address.address.startsWith('later')) return callback(refusal('mailbox busy, try again later', 451));
      if (address.address.startsWith('odd')) return callback(refusal('busy now', 451));
      callback();
    },
    onData(stream, _session, callback) {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream.on('end', () => {
        accepted.push(/^Message-ID: (.+)$/im.exec(text)?.[1]?.trim() ?? 'none');
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  mailer = smtpMailer({ host: '127.0.0.1', port, from: 'shop@localhost', connections: concurrency });
});

afterAll(async () => {
  mailer?.close();
  await new Promise<void>((resolve) => (server ? server.close(resolve) : resolve()));
  await sql?.end();
  const admin = connectAsSuperuser('postgres', 1);
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.end();
});

beforeEach(async () => {
  accepted = [];
  await sql`truncate notifications, recipients`;
});

/** A pending notification for a recipient at `email` (none: a user the service has not heard of). */
async function pendingMail(email: string | undefined, occurredAt = new Date()): Promise<string> {
  const eventId = randomUUID();
  const userId = randomUUID();
  if (email) await sql`insert into recipients ${sql({ userId, username: email, email, fullName: null, version: 1 })}`;
  await sql`
    insert into notifications ${sql({ eventId, userId, kind: 'WELCOME', subject: 'Welcome', body: 'Hello.', occurredAt })}`;
  return eventId;
}

/** One run of the sender; returns what it recorded, outcome by outcome. */
async function runSender(through: Mailer): Promise<Record<string, number>> {
  const recorded: Record<string, number> = {};
  const dependencies: SenderDependencies = {
    sql,
    mailer: through,
    logger: quiet,
    retry: { baseMs: 60_000, maxMs: 600_000 },
    concurrency,
    maxAgeMs: 3_600_000,
    record: (outcome: SendOutcome | 'expired', count = 1) => void (recorded[outcome] = (recorded[outcome] ?? 0) + count),
  };
  await sendDueNotifications(dependencies, new AbortController().signal);
  return recorded;
}

interface Row {
  eventId: string;
  status: string;
  attempts: number;
  sentTo: string | null;
  lastError: string | null;
  due: boolean;
}

async function rowsOf(eventIds: string[]): Promise<Map<string, Row>> {
  const rows = await sql<Row[]>`
    select event_id, status, attempts, sent_to, last_error, next_attempt_at <= now() as due
    from notifications where event_id = any(${eventIds}::uuid[])`;
  return new Map(rows.map((row) => [row.eventId, row]));
}

describe('the mail sender', () => {
  it("marks a batch's accepted mails sent even when a failure's mark fails, and sends them once", async () => {
    // The mark of one failure refused, as PostgreSQL refuses a NUL that an SMTP reply may hold.
    await sql.unsafe(`
      create or replace function refuse_mark() returns trigger language plpgsql as $$
        begin if new.last_error like '%busy now%' then raise exception 'cannot store this reply'; end if; return new; end $$;
      create or replace trigger refuse_mark before update on notifications for each row execute function refuse_mark();`);
    try {
      const sent = await Promise.all(Array.from({ length: 3 }, (_, i) => pendingMail(`customer${i}@example.test`)));
      const odd = await pendingMail('odd@example.test');
      // The batch was full, so the run takes another: the failed one again, still due.
      expect(await runSender(mailer)).toEqual({ sent: 3, retry: 2 });
      const rows = await rowsOf([...sent, odd]);
      for (const eventId of sent) expect(rows.get(eventId)).toMatchObject({ status: 'SENT', attempts: 1 });
      // Its mark failed: still due, tried again at the next run, alone.
      expect(rows.get(odd)).toMatchObject({ status: 'PENDING', attempts: 0, due: true });
      expect(await runSender(mailer)).toEqual({ retry: 1 });
      expect(accepted.toSorted()).toEqual(sent.map(messageIdOf).toSorted());
    } finally {
      await sql.unsafe('drop trigger refuse_mark on notifications');
    }
  });

  it('never takes a mail older than MAIL_MAX_AGE_MS to send, though not expired yet (recorded after the run gave up the old ones)', async () => {
    const tooOld = await pendingMail('old@example.test', new Date(Date.now() - 2 * 3_600_000));
    const fresh = await pendingMail('new@example.test');
    const due = await sql.begin((tx) => lockDueNotifications(tx, concurrency, 3_600_000));
    expect(due.map((notification) => notification.eventId)).toEqual([fresh]);
    expect((await rowsOf([tooOld])).get(tooOld)).toMatchObject({ status: 'PENDING' });
  });

  it('marks each mail of a batch by its own outcome: sent, refused for good, tried again later, waiting for its user, too old', async () => {
    const sent = await Promise.all(Array.from({ length: 6 }, (_, i) => pendingMail(`customer${i}@example.test`)));
    const refused = await pendingMail('refused@example.test');
    const later = await pendingMail('later@example.test');
    const unknownUser = await pendingMail(undefined);
    const tooOld = await pendingMail('old@example.test', new Date(Date.now() - 2 * 3_600_000));

    expect(await runSender(mailer)).toEqual({ expired: 1, sent: 6, failed: 1, retry: 1 });

    const rows = await rowsOf([...sent, refused, later, unknownUser, tooOld]);
    for (const [index, eventId] of sent.entries()) {
      expect(rows.get(eventId)).toMatchObject({ status: 'SENT', attempts: 1, sentTo: `customer${index}@example.test`, lastError: null });
    }
    expect(rows.get(refused)).toMatchObject({ status: 'FAILED', attempts: 1, sentTo: null });
    expect(rows.get(refused)!.lastError).toContain('no such mailbox');
    expect(rows.get(later)).toMatchObject({ status: 'PENDING', attempts: 1, due: false });
    expect(rows.get(later)!.lastError).toContain('try again later');
    expect(rows.get(unknownUser)).toMatchObject({ status: 'PENDING', attempts: 0, due: true });
    expect(rows.get(tooOld)).toMatchObject({ status: 'EXPIRED', attempts: 0 });
    expect(accepted.toSorted()).toEqual(sent.map(messageIdOf).toSorted());

    // Nothing is due now but the mail whose user is unknown: a second run sends nothing.
    expect(await runSender(mailer)).toEqual({});
    expect(accepted).toHaveLength(sent.length);
  });

  it('ends the run after one batch when the SMTP server cannot be reached, each of its mails to be tried again', async () => {
    const due = await Promise.all(Array.from({ length: concurrency + 2 }, (_, i) => pendingMail(`customer${i}@example.test`)));
    // A port nothing listens on: the server's own, once closed.
    const closed = new SMTPServer({ disabledCommands: ['STARTTLS', 'AUTH'], logger: false });
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.server.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(resolve));
    const unreachable = smtpMailer({ host: '127.0.0.1', port, from: 'shop@localhost', connections: concurrency });
    try {
      expect(await runSender(unreachable)).toEqual({ retry: concurrency });
    } finally {
      unreachable.close();
    }
    const rows = [...(await rowsOf(due)).values()];
    const tried = rows.filter((row) => row.attempts === 1);
    expect(tried).toHaveLength(concurrency);
    for (const row of tried) expect(row).toMatchObject({ status: 'PENDING', due: false, lastError: expect.any(String) });
    expect(rows.filter((row) => row.attempts === 0 && row.status === 'PENDING' && row.due && row.lastError === null)).toHaveLength(2);
  });

  it('fails no mail for good when the server refuses every one alike (the sender address), and ends the run after one batch', async () => {
    const due = await Promise.all(Array.from({ length: concurrency + 2 }, (_, i) => pendingMail(`customer${i}@example.test`)));
    const relayDenied = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onMailFrom: (_address, _session, callback) => callback(Object.assign(new Error('relaying denied'), { responseCode: 553 })),
    });
    await new Promise<void>((resolve) => relayDenied.listen(0, '127.0.0.1', resolve));
    const { port } = relayDenied.server.address() as AddressInfo;
    const refusing = smtpMailer({ host: '127.0.0.1', port, from: 'shop@localhost', connections: concurrency });
    try {
      expect(await runSender(refusing)).toEqual({ retry: concurrency });
    } finally {
      refusing.close();
      await new Promise<void>((resolve) => relayDenied.close(resolve));
    }
    const rows = [...(await rowsOf(due)).values()];
    expect(rows.filter((row) => row.status === 'FAILED')).toEqual([]);
    const tried = rows.filter((row) => row.attempts === 1);
    expect(tried).toHaveLength(concurrency);
    for (const row of tried)
      expect(row).toMatchObject({ status: 'PENDING', due: false, lastError: expect.stringContaining('relaying denied') });
  });
});

describe('the notifications pruner', () => {
  it('deletes the done notifications older than the window, oldest first, and never a pending one', async () => {
    const day = 24 * 3_600_000;
    const ago = (days: number) => new Date(Date.now() - days * day);
    const [oldSent, oldFailed, oldPending, recentSent] = await Promise.all([
      pendingMail('a@example.test', ago(100)),
      pendingMail('b@example.test', ago(95)),
      pendingMail(undefined, ago(120)),
      pendingMail('c@example.test', ago(10)),
    ]);
    await sql`update notifications set status = 'SENT', sent_at = now() where event_id in ${sql([oldSent, recentSent])}`;
    await sql`update notifications set status = 'FAILED' where event_id = ${oldFailed}`;
    const keepMs = 90 * day;
    // Batches of one: the loop goes on until a batch is short of full.
    expect(await deleteInBatches((size) => deleteOldNotifications(sql, keepMs, size), { batchSize: 1 })).toBe(2);
    expect([...(await rowsOf([oldSent, oldFailed, oldPending, recentSent])).keys()].toSorted()).toEqual(
      [oldPending, recentSent].toSorted(),
    );
  });
});
