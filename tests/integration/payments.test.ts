// Payments when the gateway does not answer definitely, against the running stack: a charge
// whose answer was lost, a charge and a refund that get no definite answer for as long as the
// simulator's outage lasts (the tests end it by hand, in the gateway's database), a
// cancellation that arrives while the charge is pending, a refund answered "already refunded"
// and one refused. Every outcome is checked in payment-svc's API, the gateway's ledger and the
// events in Kafka. The crash between a refund and its commit is replayed against payment-svc's
// real database and the real simulator, in a transaction that is rolled back.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventCodec,
  lockAggregate,
  serviceUrl,
  type ConsumedEvent,
  type EventTopic,
  type OrderCancelled,
  type OrderPlaced,
  type Transaction,
} from '@shop/kit';
import { GatewayClient } from '../../payment-svc/src/data-access/gateway-client.ts';
import {
  insertChargePending,
  recordCancellation,
  saveStagedChargeOutcomes,
  stageChargeOutcome,
} from '../../payment-svc/src/data-access/payments-repository.ts';
import {
  chargeKey,
  chargeOrder,
  insertPendingPaymentsOfBatch,
  refundKey,
  settleCancelledOrder,
  type PaymentsDependencies,
} from '../../payment-svc/src/domain/payments.ts';
import { expectStatus } from '../harness/client.ts';
import { adminToken, call, expectProblem, newCustomer, type TestUser } from '../harness/http.ts';
import { TopicRecorder } from '../harness/kafka.ts';
import { createProduct, finalOrder, ledger, netCharged, placeOrder, until, type Order } from '../harness/shop.ts';
import { connectServiceDatabase, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const codec = new EventCodec(endpoints.registryUrl);
const gatewayDb = connectServiceDatabase('gateway');
const paymentsDb = connectServiceDatabase('payments');

interface Payment {
  id: string;
  status: 'CHARGE_PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUND_PENDING' | 'REFUNDED' | 'REFUND_FAILED';
  failureReason?: string;
  gatewayChargeId?: string;
  gatewayRefundId?: string;
  attempts: number;
  nextAttemptAt?: string;
  lastError?: string;
}

let admin: string;
let customer: TestUser;
let recorder: TopicRecorder;

beforeAll(async () => {
  admin = await adminToken();
  customer = await newCustomer('payments');
  recorder = await TopicRecorder.start(endpoints.kafkaBrokers, ['payment-success', 'payment-failure', 'payment-refunded', 'dlq']);
});

afterAll(async () => {
  await recorder.stop();
  await Promise.all([gatewayDb.end(), paymentsDb.end()]);
});

async function paymentOf(orderId: string): Promise<Payment | undefined> {
  const response = await call<Payment[]>('GET', `${endpoints.paymentService}/payments?orderId=${orderId}`, { token: customer.token });
  return expectStatus(response, 200, `reading the payment of ${orderId}`).body[0];
}

const paymentUntil = (description: string, orderId: string, done: (payment: Payment) => boolean, timeoutMs?: number) =>
  until(
    description,
    () => paymentOf(orderId),
    (payment) => payment !== undefined && done(payment),
    timeoutMs,
  ) as Promise<Payment>;

/** payment-svc's gauge of unsettled payments, for one status. */
async function unsettled(status: string): Promise<number> {
  const text = await fetch(`${endpoints.paymentService}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith('payments_unsettled{') && l.includes(`status="${status}"`));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const eventsOf = (topic: string, orderId: string) => recorder.records.filter((r) => r.topic === topic && r.key === orderId);

/** An order the stock cannot serve: product-svc rejects it, order-svc cancels it OUT_OF_STOCK. */
async function placeUnservable(paymentToken: string): Promise<Order> {
  const product = await createProduct(admin, 1);
  return placeOrder(customer, { items: [{ productId: product, quantity: 2 }], paymentToken });
}

// The simulator's outages last until someone ends them: the tests do, where an operator would wait.
const endChargeOutage = (orderId: string) =>
  gatewayDb`update charge_outages set ended_at = now() where idempotency_key = ${chargeKey(orderId)}`;
/** What holds the order's charge key in the gateway's ledger table: a charge's status, VOIDED (the API lists no voids), or nothing. */
const keyHeldBy = async (orderId: string) =>
  (await gatewayDb<{ status: string }[]>`select status from charges where idempotency_key = ${chargeKey(orderId)}`)[0]?.status;
const endRefundOutage = (chargeId: string) => gatewayDb`update refund_outages set ended_at = now() where charge_id = ${chargeId}`;

describe("the gateway simulator's idempotency keys", () => {
  const chargeOnce = (body: object) => call<{ id: string; status: string }>('POST', `${endpoints.gateway}/charges`, { body });

  it('the same charge asked twice at once is charged once and both get it (201 and 200); the key with another amount → 422', async () => {
    const reference = randomUUID();
    const body = { amountCents: 700, currency: 'EUR', token: 'tok_ok', reference, idempotencyKey: chargeKey(reference) };
    const answers = await Promise.all([chargeOnce(body), chargeOnce(body)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 201]);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(await ledger(reference)).toHaveLength(1);
    expectProblem(await chargeOnce({ ...body, amountCents: 701 }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('an amount past 2^53 - 1, which JSON.parse would round, → 400, not a charge of another amount', async () => {
    const reference = randomUUID();
    // Written by hand: JSON.stringify cannot write the integer 2^53 + 1.
    const body = `{"amountCents":9007199254740993,"currency":"EUR","token":"tok_ok","reference":"${reference}","idempotencyKey":"${chargeKey(reference)}"}`;
    const response = await fetch(`${endpoints.gateway}/charges`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await ledger(reference)).toEqual([]);
  });

  it('a declined charge asked again is declined again (402), not charged', async () => {
    const reference = randomUUID();
    const body = { amountCents: 700, currency: 'EUR', token: 'tok_decline', reference, idempotencyKey: chargeKey(reference) };
    expectProblem(await chargeOnce(body), 402, 'CARD_DECLINED');
    expectProblem(await chargeOnce(body), 402, 'CARD_DECLINED');
    expect((await ledger(reference)).map((charge) => charge.status)).toEqual(['DECLINED']);
  });
});

describe('a charge without a definite answer', () => {
  it('tok_slow: the charge lands but its answer is lost; asked again under the same key → CONFIRMED, exactly one charge', async () => {
    const product = await createProduct(admin, 5);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_slow' });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    const charges = await ledger(order.id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: 'SUCCEEDED', refunds: [] });
    // The first try timed out; a later one under the same key got the charge back.
    const payment = await paymentOf(order.id);
    expect(payment).toMatchObject({ status: 'SUCCEEDED', gatewayChargeId: charges[0]!.id });
    expect(payment!.attempts).toBeGreaterThanOrEqual(2);
  });

  it('tok_unavailable: CHARGE_PENDING and retried under the same key, never PAYMENT_ERROR, while other orders go on; → CONFIRMED once the gateway answers', async () => {
    const product = await createProduct(admin, 5);
    const stuck = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_unavailable' });
    const pending = await paymentUntil(
      'the charge to be retried by the job',
      stuck.id,
      (p) => p.status === 'CHARGE_PENDING' && p.attempts >= 3,
    );
    expect(pending).toMatchObject({ nextAttemptAt: expect.any(String), lastError: expect.stringContaining('503') });
    expect(await unsettled('CHARGE_PENDING')).toBeGreaterThanOrEqual(1);

    // Another order of the same customer and product is charged meanwhile.
    const other = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_ok' });
    expect((await finalOrder(customer, other.id)).status).toBe('CONFIRMED');
    expect((await paymentOf(stuck.id))!.status).toBe('CHARGE_PENDING');
    expect(await ledger(stuck.id)).toEqual([]);

    await endChargeOutage(stuck.id);
    expect((await finalOrder(customer, stuck.id)).status).toBe('CONFIRMED');
    const charges = await ledger(stuck.id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: 'SUCCEEDED', refunds: [] });
    expect(await paymentOf(stuck.id)).toMatchObject({ status: 'SUCCEEDED', gatewayChargeId: charges[0]!.id });
    await recorder.waitFor('its payment-success', () => eventsOf('payment-success', stuck.id).length === 1);
    expect(eventsOf('payment-failure', stuck.id)).toEqual([]);
  });
});

describe('a cancellation while the charge is pending', () => {
  it('nothing landed: charging stops, the charge key is voided, the payment ends FAILED ORDER_CANCELLED, nothing charged', async () => {
    const order = await placeUnservable('tok_unavailable');
    expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    await paymentUntil('the payment to be closed', order.id, (p) => p.status === 'FAILED');
    expect(await paymentOf(order.id)).toMatchObject({ status: 'FAILED', failureReason: 'ORDER_CANCELLED' });
    // Ended now, the outage would let a charge through: none is attempted any more.
    await endChargeOutage(order.id);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await ledger(order.id)).toEqual([]);
    expect(await keyHeldBy(order.id)).toBe('VOIDED');
    expect(eventsOf('payment-failure', order.id)).toEqual([]);
    expect(eventsOf('payment-success', order.id)).toEqual([]);
  });

  it('the charge landed (its answer lost): the ledger has it, and it is refunded', async () => {
    const order = await placeUnservable('tok_slow');
    expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    const refunded = await paymentUntil('the refund', order.id, (p) => p.status === 'REFUNDED');
    const charges = await ledger(order.id);
    expect(charges).toHaveLength(1);
    expect(charges[0]!.refunds).toHaveLength(1);
    expect(netCharged(charges)).toBe(0);
    expect(refunded).toMatchObject({ gatewayChargeId: charges[0]!.id, gatewayRefundId: charges[0]!.refunds[0]!.id });
    await recorder.waitFor('its payment-refunded', () => eventsOf('payment-refunded', order.id).length === 1);
  });

  it('a charge held up inside the gateway past the cancellation: the void waits for it, so it is refunded or never made', async () => {
    // The gateway's ledger locked against writes: the charge request waits inside the gateway
    // (as behind a stalled pool or process) until payment-svc gives up on it. An empty ledger
    // read meanwhile proves nothing, however long after the last try.
    const lock = await gatewayDb.reserve();
    let order: Order;
    try {
      await lock`begin`;
      await lock`lock table charges in share row exclusive mode`;
      order = await placeUnservable('tok_ok');
      expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
      // Settled (the ledger had no charge) or waiting for its void, which waits on the lock too.
      await paymentUntil(
        'the cancellation to be settled, or to wait for its void',
        order.id,
        (p) => p.status === 'FAILED' || (p.status === 'REFUND_PENDING' && (p.lastError ?? '').includes('could not be voided')),
        60_000,
      );
    } finally {
      await lock`commit`;
      lock.release();
    }
    // The held request is now written, or refused by the void that got in first: either way
    // nothing stays charged.
    const settled = await until(
      'the payment settled and the charge key taken, by the charge or by the void',
      async () => ({ payment: await paymentOf(order.id), charges: await ledger(order.id), key: await keyHeldBy(order.id) }),
      ({ payment, charges, key }) =>
        key !== undefined && (payment?.status === 'REFUNDED' || payment?.status === 'FAILED') && netCharged(charges) === 0,
      60_000,
    );
    if (settled.key === 'SUCCEEDED') {
      expect(settled.payment?.status).toBe('REFUNDED');
      expect(settled.charges).toMatchObject([{ status: 'SUCCEEDED', refunds: [expect.anything()] }]);
    } else {
      expect(settled).toMatchObject({ key: 'VOIDED', payment: { status: 'FAILED', failureReason: 'ORDER_CANCELLED' }, charges: [] });
    }
  });
});

describe('refunds', () => {
  it('without a definite answer: REFUND_PENDING, retried and counted on /metrics, while another cancelled order is refunded at once; done when the gateway answers', async () => {
    const stuck = await placeUnservable('tok_refund_unavailable');
    expect(await finalOrder(customer, stuck.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    const pending = await paymentUntil(
      'the refund to be retried by the job',
      stuck.id,
      (p) => p.status === 'REFUND_PENDING' && p.attempts >= 2,
    );
    expect(pending).toMatchObject({ gatewayChargeId: expect.any(String), lastError: expect.stringContaining('503') });
    expect(await unsettled('REFUND_PENDING')).toBeGreaterThanOrEqual(1);

    const other = await placeUnservable('tok_ok');
    expect(await finalOrder(customer, other.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    await paymentUntil('the other refund', other.id, (p) => p.status === 'REFUNDED', 30_000);
    expect((await paymentOf(stuck.id))!.status).toBe('REFUND_PENDING');
    expect(netCharged(await ledger(stuck.id))).toBeGreaterThan(0);

    await endRefundOutage(pending.gatewayChargeId!);
    const refunded = await paymentUntil('the refund to go through', stuck.id, (p) => p.status === 'REFUNDED');
    const charges = await ledger(stuck.id);
    expect(netCharged(charges)).toBe(0);
    expect(refunded.gatewayRefundId).toBe(charges[0]!.refunds[0]!.id);
    await recorder.waitFor('its payment-refunded', () => eventsOf('payment-refunded', stuck.id).length === 1);
  });

  it('answered "already refunded" (refunded at the gateway by hand meanwhile) → REFUNDED with that refund and its payment-refunded event', async () => {
    const order = await placeUnservable('tok_refund_unavailable');
    const pending = await paymentUntil('the refund to be pending', order.id, (p) => p.status === 'REFUND_PENDING');
    const chargeId = pending.gatewayChargeId!;
    // Under the order's lock, as payment-svc takes it, so its retry comes after the refund by hand.
    const byHand = await paymentsDb.begin(async (tx) => {
      await lockAggregate(tx, order.id);
      await endRefundOutage(chargeId);
      const response = await call<{ id: string }>('POST', `${endpoints.gateway}/refunds`, {
        body: { chargeId, idempotencyKey: `by-hand:${order.id}` },
      });
      return expectStatus(response, 201, 'refunding by hand').body.id;
    });
    const refunded = await paymentUntil('the payment to see the refund', order.id, (p) => p.status === 'REFUNDED');
    expect(refunded).toMatchObject({ gatewayChargeId: chargeId, gatewayRefundId: byHand });
    const charges = await ledger(order.id);
    expect(charges[0]!.refunds.map((r) => r.id)).toEqual([byHand]);
    await recorder.waitFor('its payment-refunded', () => eventsOf('payment-refunded', order.id).length === 1);
    const event = await codec.decode('payment-refunded', eventsOf('payment-refunded', order.id)[0]!.value!);
    expect(event).toMatchObject({ orderId: order.id, gatewayChargeId: chargeId, gatewayRefundId: byHand });
  });

  it('refused by the gateway (a 4xx) → REFUND_FAILED with the answer, counted on /metrics, for a person; the event is applied, not dead-lettered', async () => {
    const order = await placeUnservable('tok_refund_refused');
    expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    const failed = await paymentUntil('the refusal', order.id, (p) => p.status === 'REFUND_FAILED');
    expect(failed.lastError).toContain('CHARGE_NOT_REFUNDABLE');
    expect(await unsettled('REFUND_FAILED')).toBeGreaterThanOrEqual(1);
    // The cancellation is recorded with it: the retry job leaves the payment alone.
    const [cancelled] = await paymentsDb`select reason from cancelled_orders where order_id = ${order.id}`;
    expect(cancelled).toEqual({ reason: 'OUT_OF_STOCK' });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await paymentOf(order.id)).toMatchObject({ status: 'REFUND_FAILED', gatewayChargeId: failed.gatewayChargeId });
    expect(recorder.records.filter((r) => r.topic === 'dlq' && r.key === order.id)).toEqual([]);
    expect(eventsOf('payment-refunded', order.id)).toEqual([]);
    expect(eventsOf('payment-success', order.id)).toHaveLength(1);
  });
});

describe('after PAYMENT_ERROR (payment-svc domain against its database and the simulator, rolled back)', () => {
  const dependencies: PaymentsDependencies = {
    codec,
    gateway: new GatewayClient({ url: serviceUrl('gateway-sim'), timeoutMs: 5_000 }),
    retry: {
      quickAttempts: 3,
      quickBackoff: { baseMs: 100, maxMs: 1_000 },
      callTimeoutMs: 5_000,
      jobBackoff: { baseMs: 1_000, maxMs: 60_000 },
    },
  };
  const cancellation = (orderId: string): OrderCancelled => ({
    orderId,
    userId: customer.id,
    reason: 'PAYMENT_ERROR',
    cancelledAt: Date.now(),
  });

  const orderPlaced = (orderId: string): OrderPlaced => ({
    orderId,
    userId: customer.id,
    items: [],
    totalCents: 1_500,
    currency: 'EUR',
    paymentToken: 'tok_ok',
    placedAt: Date.now(),
  });

  class RolledBack extends Error {}

  /** Runs `test` in a payments transaction that is rolled back, so nothing of it reaches the outbox's stream. */
  async function rolledBack(test: (tx: Transaction) => Promise<void>): Promise<void> {
    await paymentsDb
      .begin(async (tx) => {
        await test(tx);
        throw new RolledBack();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RolledBack)) throw error;
      });
  }

  async function failedPayment(tx: Transaction, orderId: string): Promise<void> {
    const { pending } = (await insertChargePending(
      tx,
      { id: randomUUID(), orderId, userId: customer.id, amountCents: 1_500, currency: 'EUR' },
      'tok_ok',
    ))!;
    stageChargeOutcome(tx, {
      paymentId: pending.id,
      status: 'FAILED',
      reason: 'PAYMENT_ERROR',
      detail: 'gateway answered 422 IDEMPOTENCY_KEY_REUSED',
    });
    await saveStagedChargeOutcomes(tx);
  }

  it('a charge that landed and was refunded before a crash: refunded again by its key, the same refund, and payment-refunded is written', async () => {
    const orderId = randomUUID();
    const charged = await call<{ id: string }>('POST', `${endpoints.gateway}/charges`, {
      body: { amountCents: 1_500, currency: 'EUR', token: 'tok_ok', reference: orderId, idempotencyKey: chargeKey(orderId) },
    });
    const chargeId = expectStatus(charged, 201, 'charging').body.id;
    const refund = await call<{ id: string }>('POST', `${endpoints.gateway}/refunds`, {
      body: { chargeId, idempotencyKey: refundKey(orderId) },
    });
    const refundId = expectStatus(refund, 201, 'refunding').body.id;

    await rolledBack(async (tx) => {
      await failedPayment(tx, orderId);
      await settleCancelledOrder(tx, dependencies, cancellation(orderId));
      const [payment] = await tx`select status, gateway_charge_id, gateway_refund_id from payments where order_id = ${orderId}`;
      expect(payment).toEqual({ status: 'REFUNDED', gatewayChargeId: chargeId, gatewayRefundId: refundId });
      const events = await tx<{ type: string; payload: Buffer }[]>`select type, payload from outbox where aggregateid = ${orderId}`;
      expect(events.map((e) => e.type)).toEqual(['payment-refunded']);
      expect(await codec.decode('payment-refunded', events[0]!.payload)).toMatchObject({
        gatewayChargeId: chargeId,
        gatewayRefundId: refundId,
      });
    });
    expect((await ledger(orderId))[0]!.refunds).toHaveLength(1);
  });

  it("a batch's pending payments are inserted in one statement, and each order's handler takes its own once", async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const placed = (orderId: string): ConsumedEvent<EventTopic> => ({
      id: randomUUID(),
      topic: 'order-placed',
      key: orderId,
      value: orderPlaced(orderId),
      partition: 0,
      offset: '0',
      timestamp: Date.now(),
    });
    const payment = (orderId: string) => ({ id: randomUUID(), orderId, userId: customer.id, amountCents: 1_500, currency: 'EUR' });
    await rolledBack(async (tx) => {
      await recordCancellation(tx, second, 'CUSTOMER_CANCELLED');
      // The first order twice (two events of it in the batch): one payment.
      await insertPendingPaymentsOfBatch(tx, [placed(first), placed(second), placed(first)]);
      const inserted = await tx<{ id: string; orderId: string }[]>`
        select id, order_id from payments where order_id = any(${[first, second]}::uuid[]) order by order_id`;
      expect(inserted.map((row) => row.orderId)).toEqual([first, second].sort());
      const idOf = (orderId: string) => inserted.find((row) => row.orderId === orderId)!.id;
      // The handlers find them inserted (an insert of their own would conflict, and answer nothing).
      expect(await insertChargePending(tx, payment(first), 'tok_ok')).toMatchObject({
        pending: { id: idOf(first), status: 'CHARGE_PENDING', paymentToken: 'tok_ok' },
        cancelled: false,
      });
      expect(await insertChargePending(tx, payment(first), 'tok_ok')).toBeUndefined();
      expect(await insertChargePending(tx, payment(second), 'tok_ok')).toMatchObject({ pending: { id: idOf(second) }, cancelled: true });
      expect(await tx`select id from payments where order_id = any(${[first, second]}::uuid[])`).toHaveLength(2);
    });
  });

  it("cancelled before its placement is applied: the charge key is voided, so an earlier try's charge can no longer land", async () => {
    const orderId = randomUUID();
    await rolledBack(async (tx) => {
      await recordCancellation(tx, orderId, 'CUSTOMER_CANCELLED');
      await chargeOrder(tx, dependencies, orderPlaced(orderId));
      const [payment] = await tx`select status, failure_reason from payments where order_id = ${orderId}`;
      expect(payment).toEqual({ status: 'FAILED', failureReason: 'ORDER_CANCELLED' });
      expect(await tx`select type from outbox where aggregateid = ${orderId}`).toEqual([]);
    });
    expect(await ledger(orderId)).toEqual([]);
    expect(await keyHeldBy(orderId)).toBe('VOIDED');
    // An earlier try's request, arriving only now: refused, nothing charged.
    const late = await call('POST', `${endpoints.gateway}/charges`, {
      body: { amountCents: 1_500, currency: 'EUR', token: 'tok_ok', reference: orderId, idempotencyKey: chargeKey(orderId) },
    });
    expectProblem(late, 409, 'CHARGE_VOIDED');
    expect(netCharged(await ledger(orderId))).toBe(0);
  });

  it('nothing in the ledger: the payment stays FAILED PAYMENT_ERROR, nothing is written', async () => {
    const orderId = randomUUID();
    await rolledBack(async (tx) => {
      await failedPayment(tx, orderId);
      await settleCancelledOrder(tx, dependencies, cancellation(orderId));
      const [payment] = await tx`select status, failure_reason from payments where order_id = ${orderId}`;
      expect(payment).toEqual({ status: 'FAILED', failureReason: 'PAYMENT_ERROR' });
      expect(await tx`select type from outbox where aggregateid = ${orderId}`).toEqual([]);
    });
  });
});
