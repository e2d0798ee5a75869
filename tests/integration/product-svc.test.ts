// product-svc through its public API: admin-only changes with optimistic concurrency, the
// public paged listing, and the product-update events every change emits, in order.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, type ProductUpdated } from '@shop/kit';
import { adminToken, call, expectProblem, newCustomer } from '../harness/http.ts';
import { TopicRecorder } from '../harness/kafka.ts';
import { finalOrder, placeOrder } from '../harness/shop.ts';
import { stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const products = `${endpoints.productService}/products`;
const codec = new EventCodec(endpoints.registryUrl);
let recorder: TopicRecorder;
let admin: string;

interface Product {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
  active: boolean;
  version: number;
}

const newProduct = (overrides: Record<string, unknown> = {}) => ({
  name: `Widget ${randomUUID().slice(0, 8)}`,
  description: 'A test widget',
  priceCents: 1999,
  currency: 'EUR',
  stock: 5,
  ...overrides,
});

async function create(overrides: Record<string, unknown> = {}): Promise<Product> {
  const response = await call<Product>('POST', products, { token: admin, body: newProduct(overrides) });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

beforeAll(async () => {
  recorder = await TopicRecorder.start(endpoints.kafkaBrokers, ['product-update']);
  admin = await adminToken();
});

afterAll(async () => {
  await recorder.stop();
});

describe('changing products', () => {
  it('create, update, stale update (412), delete → CREATED, UPDATED, DELETED events in order', async () => {
    const created = await create({ stock: 7 });
    expect(created).toMatchObject({ stock: 7, active: true, version: 1 });

    const updated = await call<Product>('PATCH', `${products}/${created.id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
      body: { priceCents: 2499, name: 'Renamed' },
    });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('"2"');
    expect(updated.body).toMatchObject({ priceCents: 2499, name: 'Renamed', version: 2 });

    const stale = await call('PATCH', `${products}/${created.id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
      body: { priceCents: 1 },
    });
    expectProblem(stale, 412, 'VERSION_MISMATCH');

    const deleted = await call('DELETE', `${products}/${created.id}`, { token: admin });
    expect(deleted.status).toBe(204);
    const afterDelete = await call<Product>('GET', `${products}/${created.id}`);
    expect(afterDelete.body).toMatchObject({ active: false, version: 3, priceCents: 2499 });
    // Deleting again changes nothing and emits nothing.
    expect((await call('DELETE', `${products}/${created.id}`, { token: admin })).status).toBe(204);

    await recorder.waitFor('three events for the product', (records) => records.filter((r) => r.key === created.id).length >= 3);
    // A sentinel on the same key (same partition) proves nothing else arrives after the three.
    const sentinel = await call<Product>('PATCH', `${products}/${created.id}`, { token: admin, body: { stock: 0 } });
    await recorder.waitFor('the sentinel', (records) => records.filter((r) => r.key === created.id).length >= 4);
    const events = recorder.records.filter((r) => r.key === created.id);
    expect(events.every((r) => r.headers['type'] === 'product-update' && /^[0-9a-f-]{36}$/.test(r.headers['id'] ?? ''))).toBe(true);
    const values = await Promise.all(events.map((r) => codec.decode('product-update', r.value!)));
    expect(values.map((v: ProductUpdated) => [v.change, v.version, v.priceCents, v.active])).toEqual([
      ['CREATED', 1, 1999, true],
      ['UPDATED', 2, 2499, true],
      ['DELETED', 3, 2499, false],
      ['UPDATED', 4, 2499, false],
    ]);
    expect(values[0]).toMatchObject({ productId: created.id, currency: 'EUR', stock: 7, description: 'A test widget' });
    expect(sentinel.body.version).toBe(4);
  });

  it('deletes once however many deletes arrive at the same moment: one version, one DELETED event', async () => {
    const created = await create();
    // Sent together, they all find the product active before the first commits.
    const answers = await Promise.all(Array.from({ length: 6 }, () => call('DELETE', `${products}/${created.id}`, { token: admin })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(204));
    expect((await call<Product>('GET', `${products}/${created.id}`)).body).toMatchObject({ active: false, version: 2 });
    // A sentinel on the same key (same partition) proves no second DELETED comes after the first.
    await call('PATCH', `${products}/${created.id}`, { token: admin, body: { stock: 0 } });
    await recorder.waitFor('the sentinel', (records) => records.filter((r) => r.key === created.id).length >= 3);
    const values = await Promise.all(
      recorder.records.filter((r) => r.key === created.id).map((r) => codec.decode('product-update', r.value!)),
    );
    expect(values.map((v: ProductUpdated) => [v.change, v.version])).toEqual([
      ['CREATED', 1],
      ['DELETED', 2],
      ['UPDATED', 3],
    ]);
  });

  it('adds a stockDelta to the stock as it is then: a reservation made since the admin read it stays taken', async () => {
    const created = await create({ stock: 10 });
    // An order takes 3 after the admin read 10 (version 1).
    const customer = await newCustomer('restock');
    const order = await placeOrder(customer, { items: [{ productId: created.id, quantity: 3 }], paymentToken: 'tok_ok' });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    expect((await call<Product>('GET', `${products}/${created.id}`)).body).toMatchObject({ stock: 7, version: 2 });

    // A restock of 5: 12, not the 15 that `stock: 15` (10 read, plus 5) would have made.
    const restocked = await call<Product>('PATCH', `${products}/${created.id}`, { token: admin, body: { stockDelta: 5 } });
    expect(restocked.status).toBe(200);
    expect(restocked.body).toMatchObject({ stock: 12, version: 3 });
    const removed = await call<Product>('PATCH', `${products}/${created.id}`, { token: admin, body: { stockDelta: -2, name: 'Fewer' } });
    expect(removed.body).toMatchObject({ stock: 10, name: 'Fewer', version: 4 });

    // Below zero or above the most a stock holds: 409 with the current ETag, nothing changed.
    const tooMany = await call('PATCH', `${products}/${created.id}`, { token: admin, body: { stockDelta: -11 } });
    expectProblem(tooMany, 409, 'STOCK_OUT_OF_RANGE');
    expect(tooMany.headers.get('etag')).toBe('"4"');
    expectProblem(
      await call('PATCH', `${products}/${created.id}`, { token: admin, body: { stockDelta: 1_000_000_000 } }),
      409,
      'STOCK_OUT_OF_RANGE',
    );
    // A stale If-Match is still a version mismatch; a new stock and a delta together are refused.
    const stale = await call('PATCH', `${products}/${created.id}`, {
      token: admin,
      headers: { 'if-match': '"3"' },
      body: { stockDelta: 1 },
    });
    expectProblem(stale, 412, 'VERSION_MISMATCH');
    expectProblem(
      await call('PATCH', `${products}/${created.id}`, { token: admin, body: { stock: 1, stockDelta: 1 } }),
      400,
      'INVALID_STOCK_CHANGE',
    );
    for (const stockDelta of [0.5, '1', 2_000_000_000]) {
      expect((await call('PATCH', `${products}/${created.id}`, { token: admin, body: { stockDelta } })).status, String(stockDelta)).toBe(
        400,
      );
    }
    expect((await call<Product>('GET', `${products}/${created.id}`)).body).toMatchObject({ stock: 10, version: 4 });

    // Each applied change is one event with the stock it made; the refused ones wrote none.
    const sentinel = await call<Product>('PATCH', `${products}/${created.id}`, { token: admin, body: { description: 'sentinel' } });
    expect(sentinel.body.version).toBe(5);
    await recorder.waitFor('five events for the product', (records) => records.filter((r) => r.key === created.id).length >= 5);
    const values = await Promise.all(
      recorder.records.filter((r) => r.key === created.id).map((r) => codec.decode('product-update', r.value!)),
    );
    expect(values.map((v: ProductUpdated) => [v.change, v.version, v.stock, v.before?.stock ?? null])).toEqual([
      ['CREATED', 1, 10, null],
      ['STOCK_CHANGED', 2, 7, 10],
      ['UPDATED', 3, 12, 7],
      ['UPDATED', 4, 10, 12],
      ['UPDATED', 5, 10, 10],
    ]);
  });

  it('is for admins only: 401 without a token, 403 for a customer', async () => {
    const customer = await newCustomer('shopper');
    const existing = await create();
    expectProblem(await call('POST', products, { body: newProduct() }), 401, 'TOKEN_MISSING');
    expectProblem(await call('POST', products, { token: customer.token, body: newProduct() }), 403, 'FORBIDDEN');
    expectProblem(await call('PATCH', `${products}/${existing.id}`, { token: customer.token, body: { stock: 0 } }), 403, 'FORBIDDEN');
    expectProblem(await call('DELETE', `${products}/${existing.id}`, { token: customer.token }), 403, 'FORBIDDEN');
  });

  it.each([
    ['a price as a string', { priceCents: '1999' }],
    ['a negative stock', { stock: -1 }],
    ['a fractional price', { priceCents: 19.99 }],
    ['a price of 0 (the gateway charges at least 1)', { priceCents: 0 }],
    ['a lower-case currency', { currency: 'eur' }],
    ['an empty name', { name: '' }],
    ['an unknown field', { colour: 'blue' }],
  ])('answers 400 problem+json for %s', async (_case, overrides) => {
    expectProblem(await call('POST', products, { token: admin, body: newProduct(overrides) }), 400, 'VALIDATION_FAILED');
  });

  it('answers 404 for an unknown product, 400 for a malformed id or If-Match', async () => {
    expectProblem(await call('GET', `${products}/${randomUUID()}`), 404, 'PRODUCT_NOT_FOUND');
    expectProblem(await call('PATCH', `${products}/${randomUUID()}`, { token: admin, body: { stock: 1 } }), 404, 'PRODUCT_NOT_FOUND');
    expectProblem(await call('GET', `${products}/not-a-uuid`), 400, 'VALIDATION_FAILED');
    const product = await create();
    expectProblem(
      await call('PATCH', `${products}/${product.id}`, { token: admin, headers: { 'if-match': 'yesterday' }, body: { stock: 1 } }),
      400,
      'INVALID_IF_MATCH',
    );
    expectProblem(
      await call('DELETE', `${products}/${product.id}`, { token: admin, headers: { 'if-match': 'yesterday' } }),
      400,
      'INVALID_IF_MATCH',
    );
    // Refused, so still there.
    expect((await call('GET', `${products}/${product.id}`)).status).toBe(200);
  });
});

describe('the public listing', () => {
  it('pages through every active product once, in creation order, with cursors', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await create()).id);
    const inactive = await create();
    await call('DELETE', `${products}/${inactive.id}`, { token: admin });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=7&cursor=${cursor}` : '?limit=7';
      const page = await call<{ items: Product[]; nextCursor: string | null }>('GET', `${products}${query}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.items.map((p) => p.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10_000);

    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => mine.includes(id))).toEqual(mine);
    expect(seen).not.toContain(inactive.id);
  });

  it('answers 400 for a bad limit or a cursor it did not issue', async () => {
    expectProblem(await call('GET', `${products}?limit=0`), 400, 'VALIDATION_FAILED');
    expectProblem(await call('GET', `${products}?limit=abc`), 400, 'VALIDATION_FAILED');
    expectProblem(await call('GET', `${products}?cursor=garbage`), 400, 'INVALID_CURSOR');
    expectProblem(await call('GET', `${products}?cursor=${Buffer.from(randomUUID()).toString('base64url')}`), 400, 'INVALID_CURSOR');
  });
});
