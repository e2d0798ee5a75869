// notification-svc records the mail of each consumed event as its consumer applies a batch:
// each event's handler stages its mail, and saveNotifications, last in the batch's
// transaction, writes them all in one statement. Against the real PostgreSQL, in a scratch
// database with the service's tables (the running service never sees it): every event's mail
// is recorded once, in one statement per batch, where one event at a time writes one each.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { ConsumedEvent, EventsByTopic, EventTopic } from '@shop/kit';
import { saveNotifications } from '../../notification-svc/src/domain/notifications.ts';
import { notificationEventHandlers } from '../../notification-svc/src/events/handlers.ts';
import { applyAsBatch, applyOneByOne, scratchServiceDatabase, type ConsumerParts } from '../harness/batches.ts';

const scratch = scratchServiceDatabase('notification_records_test', new URL('../../notification-svc/migrations/', import.meta.url));
const consumer: ConsumerParts = { handlers: notificationEventHandlers(), finishBatch: saveNotifications };

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

const mailsOf = (userId: string) =>
  scratch.sql<{ eventId: string; kind: string; status: string }[]>`
    select event_id, kind, status from notifications where user_id = ${userId} order by occurred_at, kind`;

const inserts = () => scratch.calls('%insert into notifications%');

it("a batch records each event's mail once, in one statement; one event at a time, one statement each", async () => {
  const [batched, oneByOne] = [randomUUID(), randomUUID()];
  const batch = events(batched);
  await scratch.resetStatementCounts();
  await applyAsBatch(scratch.sql, consumer, batch);
  expect(await inserts()).toBe(1);
  const mails = await mailsOf(batched);
  expect(mails.map((mail) => mail.kind).sort()).toEqual(['ORDER_CANCELLED', 'ORDER_CONFIRMED', 'PAYMENT_REFUNDED']);
  expect(new Set(mails.map((mail) => mail.eventId))).toEqual(
    new Set(batch.filter((consumed) => consumed.topic !== 'user-updated').map((consumed) => consumed.id)),
  );
  expect(mails.every((mail) => mail.status === 'PENDING')).toBe(true);

  await applyOneByOne(scratch.sql, consumer, events(oneByOne));
  expect(await inserts()).toBe(1 + 3);
  expect(await mailsOf(oneByOne)).toHaveLength(3);
});
