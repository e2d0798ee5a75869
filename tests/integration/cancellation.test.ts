// Cancellation by the customer or an admin, against every step of the saga it can meet: before
// anything happened, while the payment is in flight, while the stock is being reserved, after
// confirmation, twice at once, and racing the saga's own decision. Whatever the interleaving,
// the order ends CANCELLED once, with one order-cancelled event, nothing charged net (the
// gateway's ledger) and every unit of stock back.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, call, expectProblem, newCustomer, type TestUser } from '../harness/http.ts';
import { TopicRecorder } from '../harness/kafka.ts';
import { createProduct, finalOrder, ledger, netCharged, paymentsOf, placeOrder, stockOf, until, type Order } from '../harness/shop.ts';
import { connectAsSuperuser, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
let admin: string;
let customer: TestUser;

beforeAll(async () => {
  admin = await adminToken();
  customer = await newCustomer('cancel');
});

const cancel = (token: string, orderId: string) =>
  call<Order & { code?: string }>('POST', `${endpoints.orderService}/orders/${orderId}/cancel`, { token });

const orderOf = async (user: TestUser, orderId: string) =>
  (await call<Order>('GET', `${endpoints.orderService}/orders/${orderId}`, { token: user.token })).body;

/** How many order-cancelled records Kafka holds for the order (all partitions, read to the end). */
async function cancellationsOf(orderId: string): Promise<number> {
  const records = await TopicRecorder.readToEnd(endpoints.kafkaBrokers, ['order-cancelled']);
  return records.filter((record) => record.key === orderId).length;
}

/**
 * What every cancelled order must come to once the compensations have run: its charge
 * refunded if there was one (never twice), its stock back exactly once, one order-cancelled.
 */
async function expectCompensated(order: Order, product: string, stockBefore: number, reason: string): Promise<void> {
  expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: reason });
  await until(
    'the stock to be back',
    () => stockOf(product),
    (stock) => stock === stockBefore,
  );
  await until(
    'the money to be settled (refunded or never charged)',
    () => paymentsOf(customer, order.id),
    (payments) => payments.length === 1 && ['REFUNDED', 'FAILED'].includes(payments[0]!.status),
  );
  const charges = await ledger(order.id);
  expect(netCharged(charges)).toBe(0);
  for (const charge of charges) expect(charge.refunds.length).toBeLessThanOrEqual(1);
  expect(charges.filter((charge) => charge.status === 'SUCCEEDED').length).toBeLessThanOrEqual(1);
  expect(await cancellationsOf(order.id)).toBe(1);
  // Nothing moves later: a release applied twice would show here.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(await stockOf(product)).toBe(stockBefore);
}

describe('a customer cancels', () => {
  it('a CONFIRMED order: refunded once, its stock released, CUSTOMER_CANCELLED', async () => {
    const product = await createProduct(admin, 5, 700);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }] });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    expect(await stockOf(product)).toBe(3);

    const response = await cancel(customer.token, order.id);
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ id: order.id, status: 'CANCELLED', cancelReason: 'CUSTOMER_CANCELLED' });
    await expectCompensated(order, product, 5, 'CUSTOMER_CANCELLED');
    expect((await ledger(order.id))[0]!.refunds).toHaveLength(1);
  });

  it('a PENDING order right after placing it, racing the saga: cancelled, whatever had happened', async () => {
    const product = await createProduct(admin, 5);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }] });
    const response = await cancel(customer.token, order.id);
    expect(response.status).toBe(202);
    expect(response.body.status).toBe('CANCELLED');
    await expectCompensated(order, product, 5, 'CUSTOMER_CANCELLED');
  });

  it('while the payment is in flight (the gateway charges but answers too late): the landed charge is refunded', async () => {
    const product = await createProduct(admin, 5);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_slow' });
    // payment-svc has asked the gateway and not yet heard back: no payment outcome reached order-svc.
    await until(
      'payment-svc to wait for the gateway',
      () => paymentsOf(customer, order.id),
      (payments) => payments[0]?.status === 'CHARGE_PENDING',
    );
    expect((await orderOf(customer, order.id)).status).toBe('PENDING');
    expect((await cancel(customer.token, order.id)).status).toBe(202);
    await expectCompensated(order, product, 5, 'CUSTOMER_CANCELLED');
    // The slow charge did land at the gateway; it was refunded, not left standing.
    const charges = await ledger(order.id);
    expect(charges.filter((charge) => charge.status === 'SUCCEEDED')).toHaveLength(1);
    expect(charges[0]!.refunds).toHaveLength(1);
  });

  it('while the stock is being reserved (product-svc waits on the product row): released after the reservation lands', async () => {
    const product = await createProduct(admin, 5);
    const products = connectAsSuperuser('products', 2);
    try {
      const holder = await products.reserve();
      try {
        await holder`begin`;
        await holder`select id from products where id = ${product} for update`;
        const order = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }] });
        await until(
          "product-svc's reservation to wait on the product row",
          async () =>
            (
              await products<{ waiting: number }[]>`
                select count(*)::int as waiting from pg_stat_activity
                where datname = 'products' and wait_event_type = 'Lock' and query ilike '%for update%'`
            )[0]!.waiting,
          (waiting) => waiting > 0,
          30_000,
        );
        expect((await cancel(customer.token, order.id)).status).toBe(202);
        await holder`commit`;
        await expectCompensated(order, product, 5, 'CUSTOMER_CANCELLED');
      } finally {
        await holder`rollback`.catch(() => undefined);
        holder.release();
      }
    } finally {
      await products.end();
    }
  });

  it('twice at once: one outcome, one order-cancelled, one refund, the stock released once', async () => {
    const product = await createProduct(admin, 4);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 3 }] });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    const answers = await Promise.all([
      cancel(customer.token, order.id),
      cancel(customer.token, order.id),
      cancel(customer.token, order.id),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ status: 'CANCELLED', cancelReason: 'CUSTOMER_CANCELLED' });
    }
    await expectCompensated(order, product, 4, 'CUSTOMER_CANCELLED');
    expect((await ledger(order.id))[0]!.refunds).toHaveLength(1);
  });

  it('an order the saga cancelled already: 409 ORDER_NOT_CANCELLABLE, and nothing more happens', async () => {
    const product = await createProduct(admin, 1);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }] });
    expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    expectProblem(await cancel(customer.token, order.id), 409, 'ORDER_NOT_CANCELLABLE');
    expect((await orderOf(customer, order.id)).cancelReason).toBe('OUT_OF_STOCK');
    expect(await cancellationsOf(order.id)).toBe(1);
  });

  it("someone else's order: 404, as if it did not exist; an unknown order: 404", async () => {
    const product = await createProduct(admin, 3);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }] });
    const stranger = await newCustomer('stranger');
    expectProblem(await cancel(stranger.token, order.id), 404, 'ORDER_NOT_FOUND');
    expectProblem(await cancel(customer.token, '00000000-0000-4000-8000-000000000000'), 404, 'ORDER_NOT_FOUND');
    expectProblem(await call('POST', `${endpoints.orderService}/orders/${order.id}/cancel`), 401, 'TOKEN_MISSING');
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
  });
});

describe('the admin', () => {
  it("cancels a customer's order: ADMIN_CANCELLED, with the same compensations", async () => {
    const product = await createProduct(admin, 6);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }] });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    const response = await cancel(admin, order.id);
    expect(response.status).toBe(202);
    expect(response.body.cancelReason).toBe('ADMIN_CANCELLED');
    await expectCompensated(order, product, 6, 'ADMIN_CANCELLED');
  });

  it('lists every user’s orders, filtered by status, user and time, newest first, page by page', async () => {
    const shopper = await newCustomer('listed');
    const product = await createProduct(admin, 10);
    const placed: Order[] = [];
    for (let i = 0; i < 3; i += 1) placed.push(await placeOrder(shopper, { items: [{ productId: product, quantity: 1 }] }));
    for (const order of placed) await finalOrder(shopper, order.id);
    await cancel(shopper.token, placed[1]!.id);

    const list = (query: string, token = admin) =>
      call<{ items: Order[]; nextCursor: string | null }>('GET', `${endpoints.orderService}/admin/orders?${query}`, { token });

    const all = await list(`userId=${shopper.id}`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((order) => order.id)).toEqual(placed.map((order) => order.id).reverse());

    const cancelled = await list(`userId=${shopper.id}&status=CANCELLED`);
    expect(cancelled.body.items.map((order) => order.id)).toEqual([placed[1]!.id]);

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`userId=${shopper.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(...page.body.items.map((order) => order.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual(all.body.items.map((order) => order.id));

    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await list(`userId=${shopper.id}&from=${future}`)).body.items).toEqual([]);
    expect((await list(`userId=${shopper.id}&to=${future}`)).body.items).toHaveLength(3);

    expectProblem(await list('status=SHIPPED'), 400, 'VALIDATION_FAILED');
    expectProblem(await list(`from=${future}&to=2020-01-01T00:00:00Z`), 400, 'INVALID_TIME_RANGE');
    expectProblem(await list('cursor=bm90LWEtY3Vyc29y'), 400, 'INVALID_CURSOR');
    expectProblem(await list('', shopper.token), 403, 'FORBIDDEN');
  });
});
