// The order saga through the public APIs: the four outcomes of payment × stock, a flaky
// processor, idempotent placement, who may see what, and many users racing for the last
// units. Every outcome is checked against the gateway's ledger and the product's stock.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSigner } from 'fast-jwt';
import { adminToken, call, expectProblem, newCustomer, type TestUser } from '../harness/http.ts';
import { createProduct, finalOrder, ledger, netCharged, paymentsOf, placeOrder, postOrder, stockOf, until } from '../harness/shop.ts';
import { EventCodec } from '@shop/kit';
import { TopicRecorder } from '../harness/kafka.ts';
import { connectServiceDatabase, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
let admin: string;
let customer: TestUser;

beforeAll(async () => {
  admin = await adminToken();
  customer = await newCustomer('saga');
});

describe('the four outcomes', () => {
  it('payment ok, stock ok → CONFIRMED, one charge, stock taken', async () => {
    const product = await createProduct(admin, 5, 1_250);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }], paymentToken: 'tok_ok' });
    expect(order).toMatchObject({
      status: 'PENDING',
      totalCents: 2_500,
      currency: 'EUR',
      items: [{ productId: product, quantity: 2, unitPriceCents: 1_250 }],
    });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    const charges = await ledger(order.id);
    expect(charges.filter((c) => c.status === 'SUCCEEDED')).toHaveLength(1);
    expect(netCharged(charges)).toBe(2_500);
    expect(await stockOf(product)).toBe(3);
    expect(await paymentsOf(customer, order.id)).toMatchObject([{ status: 'SUCCEEDED' }]);
  });

  it('card declined → CANCELLED PAYMENT_DECLINED, nothing charged, stock released', async () => {
    const product = await createProduct(admin, 5);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 2 }], paymentToken: 'tok_decline' });
    expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'PAYMENT_DECLINED' });
    await until(
      'the stock to be released',
      () => stockOf(product),
      (stock) => stock === 5,
    );
    expect(netCharged(await ledger(order.id))).toBe(0);
    expect(await paymentsOf(customer, order.id)).toMatchObject([{ status: 'FAILED', failureReason: 'CARD_DECLINED' }]);
  });

  it('out of stock → CANCELLED OUT_OF_STOCK, the charge refunded, stock untouched', async () => {
    const product = await createProduct(admin, 1);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 3 }], paymentToken: 'tok_ok' });
    expect(await finalOrder(customer, order.id)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    await until(
      'the refund',
      () => paymentsOf(customer, order.id),
      (payments) => payments[0]?.status === 'REFUNDED',
    );
    const charges = await ledger(order.id);
    expect(charges.filter((c) => c.status === 'SUCCEEDED')).toHaveLength(1);
    expect(charges[0]!.refunds).toHaveLength(1);
    expect(netCharged(charges)).toBe(0);
    expect(await stockOf(product)).toBe(1);
  });

  it('declined and out of stock → CANCELLED, nothing charged net, nothing reserved', async () => {
    const product = await createProduct(admin, 1);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 3 }], paymentToken: 'tok_decline' });
    const final = await finalOrder(customer, order.id);
    expect(final.status).toBe('CANCELLED');
    expect(['PAYMENT_DECLINED', 'OUT_OF_STOCK']).toContain(final.cancelReason);
    await until(
      'the payment outcome',
      () => paymentsOf(customer, order.id),
      (payments) => payments.length === 1,
    );
    expect(netCharged(await ledger(order.id))).toBe(0);
    expect(await stockOf(product)).toBe(1);
  });
});

it('a flaky processor (503 twice) → CONFIRMED with exactly one charge in the ledger', async () => {
  const product = await createProduct(admin, 5);
  const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_flaky' });
  expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
  const charges = await ledger(order.id);
  expect(charges).toHaveLength(1);
  expect(charges[0]).toMatchObject({ status: 'SUCCEEDED', refunds: [] });
});

describe('placing orders', () => {
  it('with an Idempotency-Key: a retry returns the same order; another body with that key → 422', async () => {
    const product = await createProduct(admin, 10);
    const key = randomUUID();
    const body = { items: [{ productId: product, quantity: 1 }] };
    const first = await placeOrder(customer, body, key);
    const retry = await postOrder(customer, body, key);
    expect(retry.status).toBe(202);
    expect(retry.body.id).toBe(first.id);
    expectProblem(await postOrder(customer, { items: [{ productId: product, quantity: 2 }] }, key), 422, 'IDEMPOTENCY_KEY_REUSED');
    // The same key is another user's own key, not a clash.
    const other = await newCustomer('saga-other');
    expect((await placeOrder(other, body, key)).id).not.toBe(first.id);
    await finalOrder(customer, first.id);
    expect((await ledger(first.id)).filter((c) => c.status === 'SUCCEEDED')).toHaveLength(1);
  });

  it('takes product ids in any case and fields in any order: a retry serialised by another client is the same request', async () => {
    const product = await createProduct(admin, 10, 700);
    await placeOrder(customer, { items: [{ productId: product, quantity: 1 }] }); // once order-svc knows the product
    const key = randomUUID();
    const first = await postOrder(customer, { items: [{ quantity: 2, productId: product.toUpperCase() }] }, key);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ totalCents: 1_400, items: [{ productId: product, quantity: 2, unitPriceCents: 700 }] });
    const retry = await postOrder(customer, { items: [{ productId: product, quantity: 2 }] }, key);
    expect({ status: retry.status, id: retry.body.id }).toEqual({ status: 202, id: first.body.id });
    expectProblem(
      await postOrder(customer, {
        items: [
          { productId: product, quantity: 1 },
          { productId: product.toUpperCase(), quantity: 1 },
        ],
      }),
      400,
      'DUPLICATE_ITEM',
    );
    expect((await finalOrder(customer, first.body.id)).status).toBe('CONFIRMED');
  });

  it('shows an order and its payment to its owner and admins only (404 for anyone else)', async () => {
    const product = await createProduct(admin, 10);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }] });
    await finalOrder(customer, order.id);
    const stranger = await newCustomer('stranger');
    expectProblem(await call('GET', `${endpoints.orderService}/orders/${order.id}`, { token: stranger.token }), 404, 'ORDER_NOT_FOUND');
    expectProblem(await call('GET', `${endpoints.paymentService}/payments?orderId=${order.id}`, { token: stranger.token }), 404);
    expect((await call('GET', `${endpoints.orderService}/orders/${order.id}`, { token: admin })).status).toBe(200);
    for (const token of [customer.token, admin]) {
      const payments = await call<{ orderId: string }[]>('GET', `${endpoints.paymentService}/payments?orderId=${order.id}`, { token });
      expect({
        status: payments.status,
        orders: Array.isArray(payments.body) ? payments.body.map((p) => p.orderId) : payments.body,
      }).toEqual({
        status: 200,
        orders: [order.id],
      });
    }
    const mine = await call<{ items: { id: string }[] }>('GET', `${endpoints.orderService}/orders?limit=100`, { token: customer.token });
    expect(mine.body.items.map((o) => o.id)).toContain(order.id);
    const theirs = await call<{ items: { id: string }[] }>('GET', `${endpoints.orderService}/orders`, { token: stranger.token });
    expect(theirs.body.items).toEqual([]);
    // Another user's order is no position in one's own listing, nor a way to learn that it exists.
    const cursor = Buffer.from(order.id).toString('base64url');
    expectProblem(await call('GET', `${endpoints.orderService}/orders?cursor=${cursor}`, { token: stranger.token }), 400, 'INVALID_CURSOR');
    expect((await call('GET', `${endpoints.orderService}/orders?cursor=${cursor}`, { token: customer.token })).status).toBe(200);
  });

  it('answers 422 USER_UNKNOWN for a user order-svc has not heard of, and accepts a new user once registration has propagated', async () => {
    const users = connectServiceDatabase('users', 1);
    const [key] = await users<
      [{ kid: string; privateKey: string }]
    >`select kid, private_key from signing_keys order by created_at desc, kid limit 1`;
    await users.end();
    // A validly signed token of a user whose registration never happened anywhere.
    const ghost = createSigner({
      algorithm: 'ES256',
      key: key.privateKey,
      kid: key.kid,
      iss: 'shop-user-svc',
      aud: 'shop-api',
      expiresIn: 600_000,
    })({
      sub: randomUUID(),
      role: 'customer',
    });
    const product = await createProduct(admin, 10);
    const body = { items: [{ productId: product, quantity: 1 }] };
    const rejected = await call('POST', `${endpoints.orderService}/orders`, { token: ghost, body });
    expect(['USER_UNKNOWN', 'PRODUCT_UNKNOWN']).toContain((rejected.body as { code: string }).code);
    await placeOrder(customer, body); // the product has propagated now
    expectProblem(await call('POST', `${endpoints.orderService}/orders`, { token: ghost, body }), 422, 'USER_UNKNOWN');
    const fresh = await newCustomer('fresh');
    const order = await placeOrder(fresh, body);
    expect(order.status).toBe('PENDING');
  });

  it("skips the stock moves orders cause in order-svc's catalog, and still takes a new price that follows them", async () => {
    const product = await createProduct(admin, 10, 700);
    // Two orders, two stock moves (STOCK_CHANGED records) after the creation order-svc applied.
    for (const _ of [1, 2]) {
      const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_ok' });
      expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    }
    const repriced = await call('PATCH', `${endpoints.productService}/products/${product}`, {
      token: admin,
      body: { priceCents: 800 },
    });
    expect(repriced.status).toBe(200);
    const orders = connectServiceDatabase('orders', 1);
    try {
      await until(
        'the new price to reach order-svc',
        () => orders<{ priceCents: number }[]>`select price_cents from catalog where product_id = ${product}`,
        ([row]) => row?.priceCents === 800,
      );
      // Everything before the reprice on the product's partition has been consumed by now.
      const codec = new EventCodec(endpoints.registryUrl);
      const records = (await TopicRecorder.readToEnd(endpoints.kafkaBrokers, ['product-update'])).filter((r) => r.key === product);
      const changes = await Promise.all(
        records.map(async (r) => ({ id: r.headers['id']!, change: (await codec.decode('product-update', r.value!)).change })),
      );
      expect(changes.map((c) => c.change)).toEqual(['CREATED', 'STOCK_CHANGED', 'STOCK_CHANGED', 'UPDATED']);
      const recorded = await orders<{ eventId: string }[]>`
        select event_id from processed_events where consumer = 'order-svc' and event_id = any(${changes.map((c) => c.id)}::uuid[])`;
      // Applied: the creation and the reprice. The stock moves opened no transaction. (Were
      // order-svc restarted between the creation and the first order, that one would be applied.)
      expect(new Set(recorded.map((r) => r.eventId))).toEqual(new Set([changes[0]!.id, changes[3]!.id]));
    } finally {
      await orders.end();
    }
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_ok' });
    expect(order.totalCents).toBe(800);
  });

  it('answers 422 PRODUCT_UNKNOWN for a missing or inactive product, 400 for bad bodies', async () => {
    expectProblem(await postOrder(customer, { items: [{ productId: randomUUID(), quantity: 1 }] }), 422, 'PRODUCT_UNKNOWN');
    const product = await createProduct(admin, 10);
    await placeOrder(customer, { items: [{ productId: product, quantity: 1 }] });
    await call('DELETE', `${endpoints.productService}/products/${product}`, { token: admin });
    await until(
      'the deletion to reach order-svc',
      () => postOrder(customer, { items: [{ productId: product, quantity: 1 }] }),
      (r) => r.status === 422,
    );
    expectProblem(await postOrder(customer, { items: [{ productId: product, quantity: 1 }] }), 422, 'PRODUCT_UNKNOWN');
    expectProblem(await postOrder(customer, { items: [] }), 400, 'VALIDATION_FAILED');
    expectProblem(await postOrder(customer, { items: [{ productId: product, quantity: 0 }] }), 400, 'VALIDATION_FAILED');
    expectProblem(await postOrder(customer, { items: [{ productId: product, quantity: '1' }] }), 400, 'VALIDATION_FAILED');
    expectProblem(await call('POST', `${endpoints.orderService}/orders`, { body: { items: [] } }), 401, 'TOKEN_MISSING');
  });
});

it('oversell race: stock N, 3N concurrent orders from different users → N confirmed, stock 0, every charge settled', async () => {
  const N = 4;
  const product = await createProduct(admin, N, 700);
  const buyers = await Promise.all(Array.from({ length: 3 * N }, (_, i) => newCustomer(`racer${i}`)));
  // A first, declined order waits for the product to reach order-svc; its unit comes back.
  const probe = await placeOrder(buyers[0]!, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_decline' });
  await finalOrder(buyers[0]!, probe.id);
  await until(
    'the probe order to release its unit',
    () => stockOf(product),
    (stock) => stock === N,
  );
  const orders = await Promise.all(
    buyers.map(async (buyer) => ({ buyer, order: await placeOrder(buyer, { items: [{ productId: product, quantity: 1 }] }) })),
  );
  const finals = await Promise.all(orders.map(({ buyer, order }) => finalOrder(buyer, order.id)));
  const confirmed = finals.filter((o) => o.status === 'CONFIRMED');
  expect(confirmed).toHaveLength(N);
  expect(finals.filter((o) => o.status === 'CANCELLED').every((o) => o.cancelReason === 'OUT_OF_STOCK')).toBe(true);
  await until(
    'every cancelled order to be refunded',
    async () => Promise.all(finals.map((o) => ledger(o.id))),
    (ledgers) => ledgers.every((charges, i) => netCharged(charges) === (finals[i]!.status === 'CONFIRMED' ? 700 : 0)),
  );
  expect(await stockOf(product)).toBe(0);
});
