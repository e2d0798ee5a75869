// Exactly once under redelivery, and poison on every consumed topic: the saga's events are sent
// again with their ids and nothing changes anywhere; garbage on each topic lands in `dlq` from
// every consumer of that topic, and the saga goes on.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterHeaderNames, EventCodec } from '@shop/kit';
import { adminToken, call, expectProblem, newCustomer, type TestUser } from '../harness/http.ts';
import { TopicRecorder } from '../harness/kafka.ts';
import { createProduct, finalOrder, ledger, paymentsOf, placeOrder, postOrder, stockOf, until } from '../harness/shop.ts';
import { stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const kafka = new Kafka({ clientId: 'redelivery-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.ERROR });

/** Which consumer groups read which topics (the services' handlers). */
const consumers: Record<string, string[]> = {
  'order-svc': ['user-registration', 'product-update', 'payment-success', 'payment-failure', 'inventory-reserved', 'inventory-rejected'],
  'payment-svc': ['order-placed', 'order-cancelled'],
  'product-svc': ['order-placed', 'order-cancelled'],
  // And payment-refunded, which the declined order below never gets (nothing was charged).
  'notification-svc': ['user-registration', 'order-confirmed', 'order-cancelled'],
};
const consumedTopics = [...new Set(Object.values(consumers).flat())];

let admin: string;
let customer: TestUser;
let recorder: TopicRecorder;

beforeAll(async () => {
  admin = await adminToken();
  customer = await newCustomer('redelivery');
  recorder = await TopicRecorder.start(endpoints.kafkaBrokers, [...consumedTopics, 'dlq']);
});

afterAll(async () => {
  await recorder.stop();
});

/** Waits until every group has committed past the given offsets of the topics it reads. */
async function waitForGroupsPast(sent: { topic: string; partition: number; offset: string }[]): Promise<void> {
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  try {
    for (const [group, topics] of Object.entries(consumers)) {
      const mine = sent.filter((s) => topics.includes(s.topic));
      await until(
        `${group} to consume the resent events`,
        async () => kafkaAdmin.fetchOffsets({ groupId: group, topics }),
        (offsets) =>
          mine.every((s) => {
            const committed = offsets.find((o) => o.topic === s.topic)?.partitions.find((p) => p.partition === s.partition)?.offset;
            return committed !== undefined && BigInt(committed) > BigInt(s.offset);
          }),
        60_000,
      );
    }
  } finally {
    await kafkaAdmin.disconnect();
  }
}

describe('redelivery', () => {
  it('re-sending every consumed event of two orders (same ids) changes nothing anywhere', async () => {
    const product = await createProduct(admin, 2, 900);
    const confirmed = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_ok' });
    const cancelled = await placeOrder(customer, { items: [{ productId: product, quantity: 5 }], paymentToken: 'tok_decline' });
    expect((await finalOrder(customer, confirmed.id)).status).toBe('CONFIRMED');
    expect((await finalOrder(customer, cancelled.id)).status).toBe('CANCELLED');
    await until(
      'the payments',
      () => Promise.all([paymentsOf(customer, confirmed.id), paymentsOf(customer, cancelled.id)]),
      (p) => p.every((x) => x.length === 1),
    );

    const keys = new Set([confirmed.id, cancelled.id, product, customer.id]);
    await recorder.waitFor('the events of both orders', (records) => {
      const topics = new Set(records.filter((r) => r.key !== null && keys.has(r.key)).map((r) => r.topic));
      return consumedTopics.every((topic) => topics.has(topic));
    });
    const events = recorder.records.filter((r) => r.key !== null && keys.has(r.key) && consumedTopics.includes(r.topic));

    const snapshot = async () => ({
      orders: await Promise.all(
        [confirmed.id, cancelled.id].map((id) =>
          call('GET', `${endpoints.orderService}/orders/${id}`, { token: customer.token }).then((r) => r.body),
        ),
      ),
      payments: await Promise.all([confirmed.id, cancelled.id].map((id) => paymentsOf(customer, id))),
      ledgers: await Promise.all([confirmed.id, cancelled.id].map((id) => ledger(id))),
      product: (await call('GET', `${endpoints.productService}/products/${product}`)).body,
    });
    const before = await snapshot();

    const producer = kafka.producer();
    await producer.connect();
    const sent: { topic: string; partition: number; offset: string }[] = [];
    for (const event of events) {
      const [metadata] = await producer.send({
        topic: event.topic,
        messages: [{ key: event.key, value: event.value, headers: event.headers }],
      });
      sent.push({ topic: event.topic, partition: metadata!.partition, offset: metadata!.baseOffset! });
    }
    await producer.disconnect();
    expect(new Set(sent.map((s) => s.topic))).toEqual(new Set(consumedTopics));
    await waitForGroupsPast(sent);

    expect(await snapshot()).toEqual(before);
    const letters = recorder.records.filter((r) => r.topic === 'dlq' && r.key !== null && keys.has(r.key));
    expect(letters).toEqual([]);
  });
});

describe('poison messages', () => {
  it('on every consumed topic land in dlq from each of its consumers, with reasons; the saga goes on', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const poison = new Map<string, string>(); // key → topic
    for (const topic of consumedTopics) {
      const key = randomUUID();
      poison.set(key, topic);
      await producer.send({
        topic,
        messages: [{ key, value: Buffer.from(`not an event of ${topic}`), headers: { id: randomUUID(), type: topic } }],
      });
    }
    await producer.disconnect();

    const expected = Object.entries(consumers)
      .flatMap(([group, topics]) => topics.map((topic) => `${group} ${topic}`))
      .sort();
    const lettersOf = () =>
      recorder.records
        .filter((r) => r.topic === 'dlq' && r.key !== null && poison.has(r.key))
        .map((r) => `${r.headers[deadLetterHeaderNames.group]} ${r.headers[deadLetterHeaderNames.topic]}`)
        .sort();
    await recorder.waitFor('a dead letter from every consumer of every topic', () => lettersOf().length >= expected.length);
    expect(lettersOf()).toEqual(expected);
    for (const letter of recorder.records.filter((r) => r.topic === 'dlq' && r.key !== null && poison.has(r.key))) {
      expect(letter.headers[deadLetterHeaderNames.reason]).toBe('UNDECODABLE');
      expect(letter.headers[deadLetterHeaderNames.error]).toBeTruthy();
      expect(letter.value?.toString()).toBe(`not an event of ${letter.headers[deadLetterHeaderNames.topic]}`);
    }

    const product = await createProduct(admin, 3);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }] });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    expect(await stockOf(product)).toBe(2);
  });

  it('a product-update with a price no order can be placed at is dead-lettered by order-svc, which never sells the product', async () => {
    // product-svc refuses such a price; another writer, or a replay of an old record, might not.
    const codec = new EventCodec(endpoints.registryUrl);
    const productId = randomUUID();
    const id = randomUUID();
    const value = await codec.encode('product-update', {
      productId,
      change: 'CREATED',
      name: 'priced below zero',
      description: '',
      priceCents: -1,
      currency: 'EUR',
      stock: 5,
      active: true,
      version: 1,
      updatedAt: Date.now(),
      before: null,
      createdAt: Date.now(),
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'product-update', messages: [{ key: productId, value, headers: { id, type: 'product-update' } }] });
    await producer.disconnect();

    const letter = await until(
      "order-svc's dead letter of the event",
      async () => recorder.records.find((r) => r.topic === 'dlq' && r.headers['id'] === id),
      (found) => found !== undefined,
      60_000,
    );
    expect(letter!.headers[deadLetterHeaderNames.group]).toBe('order-svc');
    expect(letter!.headers[deadLetterHeaderNames.reason]).toBe('HANDLER_FAILED');
    expect(letter!.headers[deadLetterHeaderNames.error]).toContain('is no price orders can be placed at');
    expectProblem(await postOrder(customer, { items: [{ productId, quantity: 1 }] }), 422, 'PRODUCT_UNKNOWN');
  });
});
