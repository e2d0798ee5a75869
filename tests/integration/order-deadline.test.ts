// The order deadline against the running stack: an order whose payment never gets a definite
// answer (the simulator's tok_unavailable answers 503 for ever, so payment-svc never reports)
// stays PENDING until order-svc's deadline, is then cancelled TIMED_OUT with its
// order-cancelled event, and the compensation gives its reserved stock back. The wait follows
// the deadline the running order-svc reports at /metrics, not a number of this file's own.
// A payment report that arrives after that changes nothing: the order is final.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventCodec } from '@shop/kit';
import { deadlineCheckInterval } from '../../order-svc/src/jobs/order-deadline.ts';
import { adminToken, call, newCustomer, type TestUser } from '../harness/http.ts';
import { TopicRecorder } from '../harness/kafka.ts';
import { createProduct, ledger, netCharged, placeOrder, stockOf, until, type Order } from '../harness/shop.ts';
import { connectServiceDatabase, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const codec = new EventCodec(endpoints.registryUrl);
const orders = connectServiceDatabase('orders');

/** A sample of order-svc's /metrics, by series (`name{labels}`), or 0 when it has none yet. */
async function metric(name: string, labels = ''): Promise<number> {
  const text = await fetch(`${endpoints.orderService}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// Beyond a few minutes the test would outlast any sensible run; the stack runs order-svc with
// a short deadline (ORDER_DEADLINE_MS), production keeps the 15-minute default.
const LONGEST_TESTABLE_DEADLINE_MS = 300_000;
// After the deadline and the next check: the cancellation's way through the outbox, Kafka
// and product-svc to the released stock, with room for a busy machine.
const SETTLING_MS = 45_000;

const deadlineMs = (await metric('orders_deadline_seconds')) * 1000;
const decidedWithinMs = deadlineMs + deadlineCheckInterval(deadlineMs) + 15_000;

let admin: string;
let customer: TestUser;
let cancellations: TopicRecorder | undefined;
/** The order the first test saw time out, for the second. */
let timedOut: Order | undefined;

beforeAll(async () => {
  if (!(deadlineMs > 0 && deadlineMs <= LONGEST_TESTABLE_DEADLINE_MS)) {
    throw new Error(
      `order-svc reports a deadline of ${deadlineMs} ms at /metrics (orders_deadline_seconds); ` +
        `run it with ORDER_DEADLINE_MS of at most ${LONGEST_TESTABLE_DEADLINE_MS} (the dev stack's is short)`,
    );
  }
  admin = await adminToken();
  customer = await newCustomer('deadline');
  cancellations = await TopicRecorder.start(endpoints.kafkaBrokers, ['order-cancelled']);
});

afterAll(async () => {
  await cancellations?.stop();
  await orders.end();
});

it(
  'a payment that never answers: PENDING until the deadline, then CANCELLED TIMED_OUT, its stock released, nothing charged',
  async () => {
    const product = await createProduct(admin, 5);
    const timedOutBefore = await metric('orders_timed_out_total', 'missing="payment"');
    const placed = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }], paymentToken: 'tok_unavailable' });

    // product-svc answers (the stock is held); payment-svc keeps asking the gateway and never reports.
    await until(
      'the stock to be reserved',
      () => stockOf(product),
      (stock) => stock === 3,
    );
    const read = async () =>
      (
        await call<Order & { createdAt: string; updatedAt: string }>('GET', `${endpoints.orderService}/orders/${placed.id}`, {
          token: customer.token,
        })
      ).body;
    expect((await read()).status).toBe('PENDING');

    const final = await until('the deadline to cancel the order', read, (order) => order.status !== 'PENDING', decidedWithinMs);
    expect(final).toMatchObject({ status: 'CANCELLED', cancelReason: 'TIMED_OUT' });
    // Decided by the deadline, not before it (both times are the database's).
    const pendingForMs = Date.parse(final.updatedAt) - Date.parse(final.createdAt);
    expect(pendingForMs).toBeGreaterThanOrEqual(deadlineMs);
    expect(pendingForMs).toBeLessThan(decidedWithinMs);
    expect(await metric('orders_timed_out_total', 'missing="payment"')).toBeGreaterThan(timedOutBefore);

    const recorder = cancellations!;
    await recorder.waitFor('its order-cancelled event', (records) => records.some((r) => r.key === placed.id), SETTLING_MS);
    const events = recorder.records.filter((r) => r.key === placed.id);
    expect(events).toHaveLength(1);
    expect(await codec.decode('order-cancelled', events[0]!.value!)).toMatchObject({
      orderId: placed.id,
      userId: customer.id,
      reason: 'TIMED_OUT',
    });

    await until(
      'product-svc to release the reservation',
      () => stockOf(product),
      (stock) => stock === 5,
      SETTLING_MS,
    );
    expect(netCharged(await ledger(placed.id))).toBe(0);
    timedOut = final;
  },
  decidedWithinMs + 2 * SETTLING_MS,
);

it('a payment-success that arrives after TIMED_OUT is recorded and decides nothing: the order stays cancelled, no event is written', async () => {
  if (!timedOut) throw new Error('needs the order the previous test saw time out');
  const order = timedOut;
  // The events a transaction of this order wrote: its outbox rows carry the transaction's
  // now(), as does the order's updated_at (compared as text: a Date drops the microseconds).
  const lastWrite = async () => (await orders<[{ at: string }]>`select updated_at::text as at from orders where id = ${order.id}`)[0].at;
  const eventsWrittenAt = async (at: string) =>
    (await orders<{ type: string }[]>`select type from outbox where aggregateid = ${order.id} and created_at::text = ${at}`).map(
      (row) => row.type,
    );
  const cancelledAt = await lastWrite();
  expect(await eventsWrittenAt(cancelledAt)).toEqual(['order-cancelled']);

  // As if the charge had landed late and payment-svc reported it (payment-svc itself refunds
  // such a charge, having seen the cancellation).
  const late = {
    paymentId: randomUUID(),
    orderId: order.id,
    userId: order.userId,
    amountCents: order.totalCents,
    currency: order.currency,
    gatewayChargeId: `ch_${randomUUID()}`,
    processedAt: Date.now(),
  };
  const producer = new Kafka({ clientId: 'order-deadline-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.ERROR }).producer();
  await producer.connect();
  try {
    await producer.send({
      topic: 'payment-success',
      messages: [
        { key: order.id, value: await codec.encode('payment-success', late), headers: { id: randomUUID(), type: 'payment-success' } },
      ],
    });
  } finally {
    await producer.disconnect();
  }
  await until(
    'order-svc to record the late report',
    async () => (await orders<{ paymentOutcome: string | null }[]>`select payment_outcome from orders where id = ${order.id}`)[0],
    (row) => row?.paymentOutcome === 'SUCCEEDED',
  );
  const after = await call<Order>('GET', `${endpoints.orderService}/orders/${order.id}`, { token: customer.token });
  expect(after.body).toMatchObject({ status: 'CANCELLED', cancelReason: 'TIMED_OUT' });
  const reportedAt = await lastWrite();
  expect(reportedAt).not.toBe(cancelledAt);
  expect(await eventsWrittenAt(reportedAt)).toEqual([]);
});
