// notification-svc records the mail of each consumed event as its consumer applies a batch:
// each event's handler stages its mail, and saveNotifications, last in the batch's
// transaction, writes them all in one statement. Against the real PostgreSQL, in a scratch
// database with the service's tables (the running service never sees it): every event's mail
// is recorded once, in one statement per batch, where one event at a time writes one each.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate, migratePlatform, type ConsumedEvent, type EventHandler, type EventsByTopic, type EventTopic, type Sql } from '@shop/kit';
import { saveNotifications } from '../../notification-svc/src/domain/notifications.ts';
import { notificationEventHandlers } from '../../notification-svc/src/events/handlers.ts';
import { connectAsSuperuser } from '../harness/stack.ts';

const database = 'notification_records_test';
const handlers = notificationEventHandlers();

let sql: Sql;
/** pg_stat_statements lives in the cluster; it is read from the postgres database. */
let stats: Sql;

beforeAll(async () => {
  stats = connectAsSuperuser('postgres', 1);
  await stats.unsafe(`drop database if exists ${database} with (force)`);
  await stats.unsafe(`create database ${database}`);
  await stats`create extension if not exists pg_stat_statements`;
  sql = connectAsSuperuser(database, 2);
  await sql`create publication outbox with (publish = 'insert')`;
  await migratePlatform(sql);
  await migrate(sql, fileURLToPath(new URL('../../notification-svc/migrations/', import.meta.url)), 'service_migrations');
});

afterAll(async () => {
  await sql?.end();
  await stats?.unsafe(`drop database if exists ${database} with (force)`);
  await stats?.end();
});

function event<T extends EventTopic>(topic: T, key: string, value: EventsByTopic[T]): ConsumedEvent<EventTopic> {
  return { id: randomUUID(), topic, key, value, partition: 0, offset: '0', timestamp: Date.now() };
}

/** Three events of one customer's orders, each worth a mail, and an address change, worth none. */
function events(userId: string): ConsumedEvent<EventTopic>[] {
  const [first, second] = [randomUUID(), randomUUID()];
  const account = {
    username: `u${userId.slice(0, 8)}`,
    email: `${userId}@example.test`,
    fullName: null,
    role: 'customer' as const,
    disabled: false,
    tokenGeneration: 1,
    version: 2,
  };
  return [
    event('order-confirmed', first, { orderId: first, userId, totalCents: 1_500, currency: 'EUR', confirmedAt: Date.now() }),
    event('user-updated', userId, {
      userId,
      change: 'PROFILE_CHANGED',
      before: { ...account, version: 1 },
      after: account,
      updatedAt: Date.now(),
    }),
    event('order-cancelled', second, { orderId: second, userId, reason: 'OUT_OF_STOCK', cancelledAt: Date.now() }),
    event('payment-refunded', first, {
      paymentId: randomUUID(),
      orderId: first,
      userId,
      amountCents: 1_500,
      currency: 'EUR',
      gatewayChargeId: 'ch_test',
      gatewayRefundId: 're_test',
      refundedAt: Date.now(),
    }),
  ];
}

const handlerOf = (consumed: ConsumedEvent<EventTopic>) => handlers[consumed.topic] as EventHandler<EventTopic>;

/** As the consumer applies a batch: each handler in turn, then the finisher, in one transaction. */
async function applyAsBatch(batch: ConsumedEvent<EventTopic>[]): Promise<void> {
  await sql.begin(async (tx) => {
    for (const consumed of batch) await handlerOf(consumed)(tx, consumed);
    await saveNotifications(tx);
  });
}

async function applyOneByOne(batch: ConsumedEvent<EventTopic>[]): Promise<void> {
  for (const consumed of batch) {
    await sql.begin(async (tx) => {
      await handlerOf(consumed)(tx, consumed);
      await saveNotifications(tx);
    });
  }
}

const mailsOf = (userId: string) =>
  sql<{ eventId: string; kind: string; status: string }[]>`
    select event_id, kind, status from notifications where user_id = ${userId} order by occurred_at, kind`;

async function inserts(): Promise<number> {
  const [row] = await stats<{ calls: string | null }[]>`
    select sum(s.calls) as calls from pg_stat_statements s join pg_database d on d.oid = s.dbid
    where d.datname = ${database} and s.query like '%insert into notifications%'`;
  return Number(row?.calls ?? 0);
}

it("a batch records each event's mail once, in one statement; one event at a time, one statement each", async () => {
  const [batched, oneByOne] = [randomUUID(), randomUUID()];
  const batch = events(batched);
  await stats`select pg_stat_statements_reset(0, oid, 0) from pg_database where datname = ${database}`;
  await applyAsBatch(batch);
  expect(await inserts()).toBe(1);
  const mails = await mailsOf(batched);
  expect(mails.map((mail) => mail.kind).sort()).toEqual(['ORDER_CANCELLED', 'ORDER_CONFIRMED', 'PAYMENT_REFUNDED']);
  expect(new Set(mails.map((mail) => mail.eventId))).toEqual(
    new Set(batch.filter((consumed) => consumed.topic !== 'user-updated').map((consumed) => consumed.id)),
  );
  expect(mails.every((mail) => mail.status === 'PENDING')).toBe(true);

  await applyOneByOne(events(oneByOne));
  expect(await inserts()).toBe(1 + 3);
  expect(await mailsOf(oneByOne)).toHaveLength(3);
});
