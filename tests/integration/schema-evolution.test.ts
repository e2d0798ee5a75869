// The versions of product-update against the real registry and pipeline: version 2 added the
// optional `before` (the product as it was before the change), version 3 the optional
// `createdAt`. All three are registered under product-update-value with BACKWARD
// compatibility; a consumer still on version 1 reads the records product-svc writes now, and
// today's reader (the kit's codec) reads version 1 records; product-svc fills `before` for
// every change but a creation, and `createdAt` always; order-svc, which reads product-update,
// keeps working.
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, readEventSchemas, readSchemaHistory, type ProductUpdated } from '@shop/kit';
import { adminToken, call, newCustomer } from '../harness/http.ts';
import { TopicRecorder, type ReceivedRecord } from '../harness/kafka.ts';
import { finalOrder, placeOrder } from '../harness/shop.ts';
import { stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const subject = 'product-update-value';
const products = `${endpoints.productService}/products`;
const codec = new EventCodec(endpoints.registryUrl);

/** Versions 1 and 2, as kept in schemas/history/ (the kit's codec registers them before the current one on a new registry). */
const [productUpdateV1, productUpdateV2] = readSchemaHistory('product-update').map((source) => source.text) as [string, string];
const productUpdateV3 = readEventSchemas().find((source) => source.topic === 'product-update')!.text;

// The Confluent-compatible API of the registry.
async function registry<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${endpoints.registryUrl}${path}`, {
    ...init,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}
const versions = async () => {
  const { status, body } = await registry<number[]>(`/subjects/${subject}/versions`);
  return status === 404 ? [] : body;
};
const version = async (number: number) =>
  (await registry<{ id: number; version: number; schema: string }>(`/subjects/${subject}/versions/${number}`)).body;
const hasField = (schema: string, name: string) =>
  (JSON.parse(schema) as { fields: { name: string }[] }).fields.some((f) => f.name === name);
const hasBefore = (schema: string) => hasField(schema, 'before');
/** Equal as Avro (the parsing canonical form: no docs, no defaults, no formatting). */
const sameSchema = (a: string, b: string) =>
  avro.Type.forSchema(JSON.parse(a) as avro.Schema).equals(avro.Type.forSchema(JSON.parse(b) as avro.Schema));

let recorder: TopicRecorder;
let admin: string;

async function recordsOf(productId: string, count: number): Promise<{ record: ReceivedRecord; value: ProductUpdated }[]> {
  await recorder.waitFor(
    `${count} product-update records of ${productId}`,
    (records) => records.filter((r) => r.key === productId).length >= count,
  );
  const records = recorder.records.filter((r) => r.key === productId);
  return Promise.all(records.map(async (record) => ({ record, value: await codec.decode('product-update', record.value!) })));
}

beforeAll(async () => {
  recorder = await TopicRecorder.start(endpoints.kafkaBrokers, ['product-update']);
  admin = await adminToken();
  // The codec registers the history and the current version of a topic on its first use.
  await codec.schemaId('product-update');
});

afterAll(async () => {
  await recorder?.stop();
});

describe('product-update-value in the registry', () => {
  it('holds versions 1, 2 and 3, BACKWARD compatible', async () => {
    // A change by product-svc registers version 3 if nothing did yet.
    await call('POST', products, { token: admin, body: { name: `Registry ${randomUUID()}`, priceCents: 1, currency: 'EUR', stock: 1 } });
    const registered = await Promise.all((await versions()).map(version));
    const v1 = registered.find((v) => sameSchema(v.schema, productUpdateV1));
    const v2 = registered.find((v) => sameSchema(v.schema, productUpdateV2));
    const v3 = registered.find((v) => sameSchema(v.schema, productUpdateV3));
    expect(v1, 'version 1 registered').toBeDefined();
    expect(v2, 'version 2 registered').toBeDefined();
    expect(v3, 'version 3 registered').toBeDefined();
    expect(hasBefore(v1!.schema)).toBe(false);
    expect(hasBefore(v2!.schema)).toBe(true);
    expect(hasField(v2!.schema, 'createdAt')).toBe(false);
    expect(hasField(v3!.schema, 'createdAt')).toBe(true);
    expect(v3!.id).toBe(await codec.schemaId('product-update'));
    expect(v1!.version).toBe(1);
    expect(v2!.version).toBeLessThan(v3!.version);
    const subjectConfig = await registry<{ compatibilityLevel: string }>(`/config/${subject}`);
    const config = subjectConfig.status === 404 ? await registry<{ compatibilityLevel: string }>('/config') : subjectConfig;
    expect(config.body.compatibilityLevel).toBe('BACKWARD');
  });
});

describe('readers of either version', () => {
  it('a consumer with the version 1 schema reads a record of product-svc: same fields, no before, no createdAt', async () => {
    const created = await call<{ id: string }>('POST', products, {
      token: admin,
      body: { name: 'Evolving mug', description: 'v1 reader', priceCents: 1299, currency: 'EUR', stock: 10 },
    });
    expect(created.status).toBe(201);
    const patched = await call('PATCH', `${products}/${created.body.id}`, { token: admin, body: { priceCents: 1499 } });
    expect(patched.status).toBe(200);
    const [, updated] = await recordsOf(created.body.id, 2);
    const message = updated!.record.value!;

    // As a version 1 consumer does it: the writer's schema from the registry by the id in
    // bytes 1..4, resolved against its own (version 1) schema.
    const writerId = message.readInt32BE(1);
    const writerSchema = (await registry<{ schema: string }>(`/schemas/ids/${writerId}`)).body.schema;
    expect(hasBefore(writerSchema)).toBe(true);
    const v1Reader = avro.Type.forSchema(JSON.parse(productUpdateV1) as avro.Schema);
    const writer = avro.Type.forSchema(JSON.parse(writerSchema) as avro.Schema);
    const asV1 = v1Reader.fromBuffer(message.subarray(5), v1Reader.createResolver(writer)) as Record<string, unknown>;

    const { before, createdAt, ...afterOnly } = updated!.value;
    expect(before).toMatchObject({ priceCents: 1299, version: 1 });
    expect(createdAt).toEqual(expect.any(Number));
    expect(asV1).toEqual(afterOnly);
    expect(asV1).toMatchObject({ productId: created.body.id, change: 'UPDATED', priceCents: 1499, stock: 10, version: 2 });
    expect(asV1).not.toHaveProperty('before');
  });

  it('the kit codec reads a version 1 record, with before and createdAt null', async () => {
    const v1Id = (await version(1)).id;
    const v1Type = avro.Type.forSchema(JSON.parse(productUpdateV1) as avro.Schema);
    const old = {
      productId: randomUUID(),
      change: 'UPDATED',
      name: 'Old mug',
      description: 'written by a version 1 producer',
      priceCents: 999,
      currency: 'EUR',
      stock: 4,
      active: true,
      version: 3,
      updatedAt: Date.now(),
    };
    const header = Buffer.alloc(5);
    header.writeInt32BE(v1Id, 1); // magic byte 0, then the schema id
    const message = Buffer.concat([header, v1Type.toBuffer(old)]);
    expect(await codec.decode('product-update', message)).toEqual({ ...old, before: null, createdAt: null });
  });
});

describe('product-svc fills before', () => {
  it('null for CREATED; the previous state for UPDATED, DELETED and STOCK_CHANGED; order-svc still reads the topic', async () => {
    const created = await call<{ id: string; createdAt: string }>('POST', products, {
      token: admin,
      body: { name: 'Before mug', description: 'Blue', priceCents: 1000, currency: 'EUR', stock: 5 },
    });
    const id = created.body.id;
    expect(
      (await call('PATCH', `${products}/${id}`, { token: admin, headers: { 'if-match': '"1"' }, body: { name: 'After mug' } })).status,
    ).toBe(200);

    // An order takes 2 units: product-svc's reservation is a STOCK_CHANGED; that the order is
    // confirmed shows order-svc read this product's version 2 records.
    const customer = await newCustomer('evolution');
    const order = await placeOrder(customer, { items: [{ productId: id, quantity: 2 }], paymentToken: 'tok_ok' });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');
    expect((await call('DELETE', `${products}/${id}`, { token: admin })).status).toBe(204);

    const events = (await recordsOf(id, 4)).map(({ value }) => value);
    const state = { description: 'Blue', priceCents: 1000, currency: 'EUR' };
    expect(events.map((e) => [e.change, e.version, e.before])).toEqual([
      ['CREATED', 1, null],
      ['UPDATED', 2, { ...state, name: 'Before mug', stock: 5, active: true, version: 1 }],
      ['STOCK_CHANGED', 3, { ...state, name: 'After mug', stock: 5, active: true, version: 2 }],
      ['DELETED', 4, { ...state, name: 'After mug', stock: 3, active: true, version: 3 }],
    ]);
    expect(events.at(-1)).toMatchObject({ name: 'After mug', stock: 3, active: false });
    // Every record carries the creation time the API gave: the newest is the whole product.
    expect(new Set(events.map((e) => e.createdAt))).toEqual(new Set([Date.parse(created.body.createdAt)]));
  });
});
