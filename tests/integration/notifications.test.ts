// notification-svc against the running stack: one mail per event in MailDev, with the event id
// as its Message-ID, also when the event is delivered again; a mail that waits for its
// user's late registration and goes to the newest address; GET /notifications, the caller's
// own only, newest first, page by page.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, serviceUrl, type EventTopic, type EventsByTopic, type OrderConfirmed, type Sql, type UserState } from '@shop/kit';
import { adminToken, call, expectProblem, newCustomer, type TestUser } from '../harness/http.ts';
import { TopicRecorder, type ReceivedRecord } from '../harness/kafka.ts';
import { createProduct, finalOrder, placeOrder, until } from '../harness/shop.ts';
import { connectServiceDatabase, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const notificationService = serviceUrl('notification-svc');
const maildev = process.env['MAILDEV_URL'] ?? `http://127.0.0.1:${process.env['MAILDEV_WEB_PORT'] ?? '1080'}`;
const kafka = new Kafka({ clientId: 'notifications-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.ERROR });
const codec = new EventCodec(endpoints.registryUrl);

/** A mail as MailDev 3's REST API lists it (GET /api/email). */
interface Mail {
  id: string;
  subject: string;
  text: string;
  to: { address: string; name: string }[];
  headers: Record<string, string>;
}

interface Notification {
  id: string;
  kind: string;
  subject: string;
  body: string;
  occurredAt: string;
  status: string;
  sentAt: string | null;
  attempts: number;
}
interface NotificationPage {
  items: Notification[];
  nextCursor: string | null;
}

const messageIdOf = (eventId: string) => `<${eventId}@shop.local>`;

/** The mails MailDev holds with this Message-ID (its API filters on any field, headers too). */
async function mailsWithMessageId(messageId: string): Promise<Mail[]> {
  const response = await fetch(`${maildev}/api/email?${new URLSearchParams({ 'headers.message-id': messageId }).toString()}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Mail[];
}

const oneMailWithMessageId = async (messageId: string): Promise<Mail> =>
  (
    await until(
      `the mail ${messageId} in MailDev`,
      () => mailsWithMessageId(messageId),
      (mails) => mails.length > 0,
      60_000,
    )
  )[0]!;

const notificationsOf = (user: Pick<TestUser, 'token'>, query = '') =>
  call<NotificationPage>('GET', `${notificationService}/notifications${query}`, { token: user.token });

/** Waits until the notification-svc group has committed past these records. */
async function waitForNotificationServicePast(records: { topic: string; partition: number; offset: string }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [...new Set(records.map((record) => record.topic))];
    await until(
      'notification-svc to consume the records',
      () => admin.fetchOffsets({ groupId: 'notification-svc', topics }),
      (offsets) =>
        records.every((record) => {
          const committed = offsets.find((o) => o.topic === record.topic)?.partitions.find((p) => p.partition === record.partition)?.offset;
          return committed !== undefined && BigInt(committed) > BigInt(record.offset);
        }),
      60_000,
    );
  } finally {
    await admin.disconnect();
  }
}

let admin: string;
let customer: TestUser;
let recorder: TopicRecorder;
let producer: Producer;
let notifications: Sql;

beforeAll(async () => {
  recorder = await TopicRecorder.start(endpoints.kafkaBrokers, ['user-registration', 'order-confirmed', 'order-cancelled']);
  producer = kafka.producer();
  await producer.connect();
  notifications = connectServiceDatabase('notifications', 1);
  admin = await adminToken();
  customer = await newCustomer('notify');
});

afterAll(async () => {
  await Promise.all([recorder.stop(), producer.disconnect(), notifications.end()]);
});

/** The one record of `topic` keyed `key` (an event the services wrote), once it is there. */
async function eventRecord(topic: EventTopic, key: string): Promise<ReceivedRecord> {
  const matches = () => recorder.records.filter((record) => record.topic === topic && record.key === key);
  await recorder.waitFor(`the ${topic} event of ${key}`, () => matches().length > 0);
  expect(matches()).toHaveLength(1);
  return matches()[0]!;
}

async function sendEvent<T extends EventTopic>(topic: T, key: string, value: EventsByTopic[T], id: string = randomUUID()) {
  const [metadata] = await producer.send({
    topic,
    messages: [{ key, value: await codec.encode(topic, value), headers: { id, type: topic } }],
  });
  return { id, topic, partition: metadata!.partition, offset: metadata!.baseOffset! };
}

describe('mails', () => {
  let confirmation: ReceivedRecord;

  it('welcomes a new customer, with the user-registration event id as the Message-ID', async () => {
    const registration = await eventRecord('user-registration', customer.id);
    const mail = await oneMailWithMessageId(messageIdOf(registration.headers['id']!));
    expect(mail.to.map((to) => to.address)).toEqual([customer.email]);
    expect(mail.subject).toBe('Welcome to the shop');
    expect(mail.text).toContain(`your account ${customer.username} is ready`);
  });

  it('sends one confirmation per order, and still one after order-confirmed is delivered again', async () => {
    const product = await createProduct(admin, 5, 1_250);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }], paymentToken: 'tok_ok' });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    confirmation = await eventRecord('order-confirmed', order.id);
    const messageId = messageIdOf(confirmation.headers['id']!);

    const mail = await oneMailWithMessageId(messageId);
    expect(mail.to.map((to) => to.address)).toEqual([customer.email]);
    expect(mail.subject).toBe(`Your order ${order.id.slice(0, 8).toUpperCase()} is confirmed`);
    expect(mail.text).toContain('€25.00');

    // The same record again, with the same id header: what a redelivery after a lost commit
    // looks like to the consumer.
    const [metadata] = await producer.send({
      topic: 'order-confirmed',
      messages: [{ key: confirmation.key, value: confirmation.value, headers: confirmation.headers }],
    });
    await waitForNotificationServicePast([{ topic: 'order-confirmed', partition: metadata!.partition, offset: metadata!.baseOffset! }]);
    // Past the consumer, a second row would be sent within a run of the sender (1 s by default).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await mailsWithMessageId(messageId)).toHaveLength(1);
    const [row] = await notifications<{ status: string; attempts: number }[]>`
      select status, attempts from notifications where event_id = ${confirmation.headers['id']!}`;
    expect(row).toEqual({ status: 'SENT', attempts: 1 });
  });

  it('says in words why an order was cancelled', async () => {
    const product = await createProduct(admin, 5);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_decline' });
    expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'PAYMENT_DECLINED' });
    const cancellation = await eventRecord('order-cancelled', order.id);
    const mail = await oneMailWithMessageId(messageIdOf(cancellation.headers['id']!));
    expect(mail.text).toContain('was cancelled because your card was declined.');
  });

  it('sends a burst of mails, several at once, each exactly once', async () => {
    // The sender takes these rows MAIL_SEND_CONCURRENCY at a time, each batch in a transaction
    // that locks its rows (FOR UPDATE SKIP LOCKED) and marks them, so none may go out twice. A
    // customer of its own: the listing test below counts the first customer's notifications.
    const recipient = await newCustomer('notify-burst');
    const burst = Array.from({ length: 40 }, () => {
      const orderId = randomUUID();
      const value: OrderConfirmed = { orderId, userId: recipient.id, totalCents: 500, currency: 'EUR', confirmedAt: Date.now() };
      return { key: orderId, id: randomUUID(), value };
    });
    await producer.send({
      topic: 'order-confirmed',
      messages: await Promise.all(
        burst.map(async ({ key, id, value }) => ({
          key,
          value: await codec.encode('order-confirmed', value),
          headers: { id, type: 'order-confirmed' },
        })),
      ),
    });
    const ids = burst.map(({ id }) => id);
    await until(
      'every mail of the burst to be sent',
      () => notifications<{ sent: number }[]>`
        select count(*)::int as sent from notifications where event_id = any(${ids}::uuid[]) and status = 'SENT'`,
      ([row]) => row!.sent === ids.length,
      60_000,
    );
    // A second copy would come within a run of the sender (1 s by default).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const id of ids) expect({ id, mails: (await mailsWithMessageId(messageIdOf(id))).length }).toEqual({ id, mails: 1 });
    const attempts = await notifications<{ attempts: number }[]>`select attempts from notifications where event_id = any(${ids}::uuid[])`;
    expect(attempts.map((row) => row.attempts)).toEqual(ids.map(() => 1));
  });

  it('keeps a mail until its user is known, then sends it to the newest address', async () => {
    const userId = randomUUID();
    const username = `late-${userId.slice(0, 8)}`;
    const confirmed = (orderId: string): OrderConfirmed => ({ orderId, userId, totalCents: 500, currency: 'EUR', confirmedAt: Date.now() });

    // An order-confirmed of a user notification-svc has not heard of: recorded, not sent.
    const early = await sendEvent('order-confirmed', randomUUID(), confirmed(randomUUID()));
    await waitForNotificationServicePast([early]);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const [waiting] = await notifications`select status, attempts from notifications where event_id = ${early.id}`;
    expect(waiting).toEqual({ status: 'PENDING', attempts: 0 });
    expect(await mailsWithMessageId(messageIdOf(early.id))).toEqual([]);

    // The registration arrives late: the waiting mail goes out, with the welcome.
    const email = `${username}@example.test`;
    const registered = await sendEvent('user-registration', userId, {
      userId,
      username,
      email,
      fullName: null,
      role: 'customer',
      registeredAt: Date.now(),
    });
    expect((await oneMailWithMessageId(messageIdOf(early.id))).to.map((to) => to.address)).toEqual([email]);
    expect((await oneMailWithMessageId(messageIdOf(registered.id))).subject).toBe('Welcome to the shop');

    // The address changes (version 3); a late, older change (version 2) does not undo that.
    const state = (version: number, address: string): UserState => ({
      username,
      email: address,
      fullName: null,
      role: 'customer',
      disabled: false,
      tokenGeneration: 1,
      version,
    });
    const update = (from: UserState, to: UserState) => ({
      userId,
      change: 'PROFILE_CHANGED' as const,
      before: from,
      after: to,
      updatedAt: Date.now(),
    });
    const newest = `moved-${email}`;
    const changes = [
      await sendEvent('user-updated', userId, update(state(2, `older-${email}`), state(3, newest))),
      await sendEvent('user-updated', userId, update(state(1, email), state(2, `older-${email}`))),
    ];
    await waitForNotificationServicePast(changes);
    const later = await sendEvent('order-confirmed', randomUUID(), confirmed(randomUUID()));
    expect((await oneMailWithMessageId(messageIdOf(later.id))).to.map((to) => to.address)).toEqual([newest]);
  });
});

describe('GET /notifications', () => {
  it("lists the caller's own notifications, newest first, page by page", async () => {
    // The mails of the tests above: the welcome, the confirmation, the cancellation.
    const all = await until(
      "the customer's three notifications",
      async () => (await notificationsOf(customer, '?limit=100')).body,
      (page) => page.items.length === 3,
    );
    expect(all.items.map((item) => item.kind)).toEqual(['ORDER_CANCELLED', 'ORDER_CONFIRMED', 'WELCOME']);
    expect(all.nextCursor).toBeNull();
    const occurred = all.items.map((item) => Date.parse(item.occurredAt));
    expect(occurred).toEqual([...occurred].sort((a, b) => b - a));
    const confirmed = all.items[1]!;
    expect(confirmed).toMatchObject({ status: 'SENT', attempts: 1, sentAt: expect.any(String) });
    expect(confirmed.body).toContain('is confirmed');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: NotificationPage = (await notificationsOf(customer, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(all.items.map((item) => item.id));

    const one = await call<Notification>('GET', `${notificationService}/notifications/${confirmed.id}`, { token: customer.token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(confirmed);
  });

  it("shows nobody else's notifications", async () => {
    const other = await newCustomer('notify-other');
    const own = await until(
      "the other customer's welcome",
      async () => (await notificationsOf(other)).body,
      (page) => page.items.length === 1,
    );
    expect(own.items[0]).toMatchObject({ kind: 'WELCOME' });

    const mine = (await notificationsOf(customer)).body.items[0]!;
    const theirs = await call('GET', `${notificationService}/notifications/${mine.id}`, { token: other.token });
    expectProblem(theirs, 404, 'NOTIFICATION_NOT_FOUND');
    // A cursor is only good for the listing of the user it was issued to.
    const cursor = Buffer.from(mine.id).toString('base64url');
    expectProblem(await notificationsOf(other, `?cursor=${cursor}`), 400, 'INVALID_CURSOR');
  });

  it('answers 401 without a token and 400 INVALID_CURSOR for a cursor it did not issue', async () => {
    expectProblem(await call('GET', `${notificationService}/notifications`), 401, 'TOKEN_MISSING');
    expectProblem(await notificationsOf(customer, '?cursor=bm90LWEtY3Vyc29y'), 400, 'INVALID_CURSOR');
    expectProblem(await notificationsOf(customer, `?cursor=${Buffer.from(randomUUID()).toString('base64url')}`), 400, 'INVALID_CURSOR');
  });
});
