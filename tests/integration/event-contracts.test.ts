// Contract tests of the events against the real registry: example events round-trip through
// the codec, the registry enforces BACKWARD compatibility, and the outbox writer's events
// reach Kafka with the contract's key and headers.
import { randomUUID } from 'node:crypto';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventCodec,
  connectDatabase,
  outboxEvent,
  readEventSchemas,
  registryClient,
  requireEnv,
  writeOutboxEvent,
  type EventsByTopic,
  type Sql,
} from '@shop/kit';
import { TopicRecorder } from '../harness/kafka.ts';
import { stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const codec = new EventCodec(endpoints.registryUrl);

const examples: EventsByTopic = {
  'user-registration': {
    userId: randomUUID(),
    username: 'ada',
    email: 'ada@example.test',
    fullName: 'Ada Lovelace',
    role: 'customer',
    registeredAt: Date.now(),
  },
  'user-updated': {
    userId: randomUUID(),
    change: 'PASSWORD_CHANGED',
    before: {
      username: 'ada',
      email: 'ada@example.test',
      fullName: null,
      role: 'customer',
      disabled: false,
      tokenGeneration: 1,
      version: 1,
    },
    after: {
      username: 'ada',
      email: 'ada@example.test',
      fullName: null,
      role: 'customer',
      disabled: false,
      tokenGeneration: 2,
      version: 2,
    },
    updatedAt: Date.now(),
  },
  'product-update': {
    productId: randomUUID(),
    change: 'CREATED',
    name: 'Analytical Engine',
    description: 'Programmable',
    priceCents: 125_000,
    currency: 'GBP',
    stock: 3,
    active: true,
    version: 1,
    updatedAt: Date.now(),
    before: null,
    createdAt: Date.now(),
  },
  'order-placed': {
    orderId: randomUUID(),
    userId: randomUUID(),
    items: [{ productId: randomUUID(), quantity: 2, unitPriceCents: 1_250 }],
    totalCents: 2_500,
    currency: 'EUR',
    paymentToken: 'tok_ok',
    placedAt: Date.now(),
  },
  'order-confirmed': { orderId: randomUUID(), userId: randomUUID(), totalCents: 2_500, currency: 'EUR', confirmedAt: Date.now() },
  'order-cancelled': { orderId: randomUUID(), userId: randomUUID(), reason: 'OUT_OF_STOCK', cancelledAt: Date.now() },
  'payment-success': {
    paymentId: randomUUID(),
    orderId: randomUUID(),
    userId: randomUUID(),
    amountCents: 2_500,
    currency: 'EUR',
    gatewayChargeId: 'ch_1',
    processedAt: Date.now(),
  },
  'payment-failure': {
    paymentId: randomUUID(),
    orderId: randomUUID(),
    userId: randomUUID(),
    amountCents: 2_500,
    currency: 'EUR',
    reason: 'CARD_DECLINED',
    detail: 'The card was declined.',
    processedAt: Date.now(),
  },
  'payment-refunded': {
    paymentId: randomUUID(),
    orderId: randomUUID(),
    userId: randomUUID(),
    amountCents: 2_500,
    currency: 'EUR',
    gatewayChargeId: 'ch_1',
    gatewayRefundId: 're_1',
    refundedAt: Date.now(),
  },
  'inventory-reserved': { orderId: randomUUID(), items: [{ productId: randomUUID(), quantity: 2 }], reservedAt: Date.now() },
  'inventory-rejected': {
    orderId: randomUUID(),
    shortages: [{ productId: randomUUID(), requested: 3, available: 1 }],
    rejectedAt: Date.now(),
  },
};

describe('event schemas in the registry', () => {
  it.each(Object.keys(examples) as (keyof EventsByTopic)[])(
    '%s: an example event round-trips through encoder and decoder',
    async (topic) => {
      const encoded = await codec.encode(topic, examples[topic]);
      expect(encoded.readUInt8(0)).toBe(0);
      expect(await codec.decode(topic, encoded)).toEqual(examples[topic]);
    },
  );

  describe('BACKWARD compatibility', () => {
    const registry = registryClient(endpoints.registryUrl);
    // A scratch subject per run, so the real subjects keep only real versions.
    const subject = `compatibility-check-${randomUUID()}-value`;
    const source = readEventSchemas().find((s) => s.topic === 'user-registration')!;
    const base = JSON.parse(source.text) as { fields: object[] };
    const withField = (field: object): string => JSON.stringify({ ...base, fields: [...base.fields, field] });

    beforeAll(async () => {
      await registry.register({ type: SchemaType.AVRO, schema: source.text }, { subject });
    });

    afterAll(async () => {
      await fetch(`${endpoints.registryUrl}/subjects/${subject}`, { method: 'DELETE' });
    });

    it('refuses a new required field (new readers could not read old events)', async () => {
      const incompatible = withField({ name: 'loyaltyTier', type: 'string' });
      await expect(registry.register({ type: SchemaType.AVRO, schema: incompatible }, { subject })).rejects.toThrow();
      const response = await fetch(`${endpoints.registryUrl}/compatibility/subjects/${subject}/versions/latest`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: incompatible }),
      });
      expect(await response.json()).toMatchObject({ is_compatible: false });
    });

    it('accepts a new optional field with a default', async () => {
      const compatible = withField({ name: 'referrer', type: ['null', 'string'], default: null });
      const { id } = await registry.register({ type: SchemaType.AVRO, schema: compatible }, { subject });
      expect(id).toBeGreaterThan(0);
    });
  });
});

describe('the outbox writer', () => {
  let sql: Sql;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    sql = connectDatabase({
      host: endpoints.pgHost,
      port: endpoints.pgPort,
      database: 'products',
      username: 'products',
      password: requireEnv('PRODUCTS_DB_PASSWORD'),
    });
    recorder = await TopicRecorder.start(endpoints.kafkaBrokers, ['product-update']);
  });

  afterAll(async () => {
    await recorder?.stop();
    await sql?.end();
  });

  it('publishes an event only when its transaction commits', async () => {
    const product = examples['product-update'];
    let rolledBack = '';
    let committed = '';

    await sql
      .begin(async (tx) => {
        rolledBack = await writeOutboxEvent(tx, codec, outboxEvent('product-update', product.productId, product));
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await sql.begin(async (tx) => {
      committed = await writeOutboxEvent(tx, codec, outboxEvent('product-update', product.productId, product));
    });

    await recorder.waitFor('the committed event', (records) => records.some((r) => r.headers['id'] === committed));
    const record = recorder.records.find((r) => r.headers['id'] === committed)!;
    expect(record.key).toBe(product.productId);
    expect(record.headers['type']).toBe('product-update');
    expect(await codec.decode('product-update', record.value!)).toEqual(product);
    // Same key, so same partition, and written before the committed event: had the rolled-back
    // event been published, it would have arrived first.
    expect(rolledBack).toMatch(/^[0-9a-f-]{36}$/);
    expect(recorder.records.some((r) => r.headers['id'] === rolledBack)).toBe(false);
  });
});
