// order-svc's copies of users and products are replicas: built only from user-registration
// and product-update, never by asking their owners. The topics are compacted so that they
// keep every key for ever; a new or rebuilt consumer must end up with exactly what the
// owners hold. This test rebuilds the copies the way an operator would after losing them:
// a new consumer group, empty tables (a scratch database with order-svc's migrations), and
// order-svc's own handlers and filter (which skips stock moves it can tell are needless).
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventCodec,
  EventConsumer,
  loadConfig,
  loadServiceConfig,
  loadServiceDefinition,
  migrate,
  migratePlatform,
  serviceNamed,
  type EventHandlers,
  type Logger,
  type Sql,
} from '@shop/kit';
import { adminToken, call, createProduct, expectStatus, registerCustomer } from '../harness/client.ts';
import { connectAsSuperuser, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const replicaTopics = ['user-registration', 'product-update'] as const;
/** What connect/topics.conf compacts: the replica topics and user-updated, an account's standing. */
const compactedTopics = ['user-registration', 'user-updated', 'product-update'] as const;
const database = 'order_replica_rebuild_test';
const group = `replica-rebuild-${randomUUID()}`;
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const kafka = new Kafka({ clientId: 'replica-rebuild-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.ERROR });

let scratch: Sql;
let users: Sql;
let products: Sql;
let consumer: EventConsumer | undefined;

async function waitUntil(description: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** True once the group has committed, in every partition of both topics, the end offsets read when called. */
async function caughtUp(): Promise<() => Promise<boolean>> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, string>();
  for (const topic of replicaTopics) {
    for (const { partition, high } of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${partition}`, high);
  }
  return async () => {
    const committed = await admin.fetchOffsets({ groupId: group, topics: [...replicaTopics] });
    const done = committed.every(({ topic, partitions }) =>
      partitions.every(({ partition, offset }) => {
        const end = ends.get(`${topic}/${partition}`) ?? '0';
        return end === '0' || BigInt(offset) >= BigInt(end);
      }),
    );
    if (done) await admin.disconnect();
    return done;
  };
}

beforeAll(async () => {
  const admin = connectAsSuperuser('postgres', 1);
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.unsafe(`create database ${database}`);
  await admin.end();
  scratch = connectAsSuperuser(database);
  // What order-svc's database has: the platform tables (processed_events) and its own.
  await scratch`create publication outbox with (publish = 'insert')`;
  await migratePlatform(scratch);
  await migrate(scratch, fileURLToPath(new URL('../../order-svc/migrations/', import.meta.url)), 'service_migrations');
  users = connectAsSuperuser('users', 1);
  products = connectAsSuperuser('products', 1);
});

afterAll(async () => {
  await consumer?.stop();
  await scratch?.end();
  await users?.end();
  await products?.end();
  const admin = connectAsSuperuser('postgres', 1);
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.end();
});

describe('the replica topics', () => {
  it('are compacted, so that they keep the newest record of every key for ever', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: compactedTopics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy'] })),
      });
      expect(Object.fromEntries(resources.map((resource) => [resource.resourceName, resource.configEntries[0]?.configValue]))).toEqual(
        Object.fromEntries(compactedTopics.map((topic) => [topic, 'compact'])),
      );
    } finally {
      await admin.disconnect();
    }
  });

  it("rebuild order-svc's copies of users and products: a new group into empty tables ends with exactly what the owners hold", async () => {
    // order-svc's own handlers for the two topics, from its definition (no app, no HTTP).
    const definition = await loadServiceDefinition('order-svc');
    const config = loadServiceConfig(serviceNamed('order-svc'), process.env);
    const codec = new EventCodec(endpoints.registryUrl);
    const parts = definition.setup({
      config,
      env: loadConfig(definition.environment, process.env),
      sql: scratch,
      codec,
      logger: quiet,
      metrics: new Registry(),
    });
    const own = parts.handlers ?? {};
    if (!own['user-registration'] || !own['product-update']) throw new Error('order-svc no longer handles the replica topics');
    const handlers: EventHandlers = { 'user-registration': own['user-registration'], 'product-update': own['product-update'] };

    // Something of each kind that this test wrote: a user, and a product in its second version.
    const customer = await registerCustomer('replica');
    const admin = await adminToken();
    const productId = await createProduct(admin, 5, 1_000);
    const repriced = await call('PATCH', `${endpoints.productService}/products/${productId}`, {
      token: admin,
      body: { priceCents: 1_250 },
    });
    expectStatus(repriced, 200, 'repricing the product');

    consumer = new EventConsumer({
      group,
      kafka,
      sql: scratch,
      codec,
      logger: quiet,
      settings: {
        maxAttempts: 3,
        retryBaseMs: 50,
        retryMaxMs: 500,
        partitionsConsumedConcurrently: 3,
        batchSize: 100,
        commitIntervalMs: 1_000,
      },
      handlers,
      filter: parts.filter,
    });
    await consumer.start();
    await waitUntil('the rebuilt copies to hold the new user and the repriced product', async () => {
      const [user] = await scratch`select 1 from known_users where id = ${customer.id}`;
      const [product] = await scratch`select 1 from catalog where product_id = ${productId} and price_cents = 1250`;
      return user !== undefined && product !== undefined;
    });
    // Then everything else the topics hold up to now.
    await waitUntil('the new group to reach the end of both topics', await caughtUp());

    // The owners' rows, each exactly as they hold it. (Other integration tests also write
    // synthetic registrations and product updates straight into the topics, with no owner
    // row; those are compared below with order-svc's live copy, which read the same records.)
    const ownersUsers = await users<{ id: string; username: string }[]>`select id, username from users order by id`;
    const rebuiltUsers = await scratch<{ id: string; username: string }[]>`select id, username from known_users order by id`;
    expect(ownersUsers.length).toBeGreaterThan(0);
    const rebuiltUserById = new Map(rebuiltUsers.map((user) => [user.id, user]));
    expect(ownersUsers.map((user) => rebuiltUserById.get(user.id) ?? { id: user.id, missing: true })).toEqual(ownersUsers);

    // The terms an order is placed on. Not the version: order-svc skips stock moves once it
    // holds a product's terms, so its row keeps the version of the last record it applied.
    const ownersProducts = await products`select id as product_id, price_cents, currency, active from products order by id`;
    const rebuiltProducts = await scratch`select product_id, price_cents, currency, active from catalog order by product_id`;
    expect(ownersProducts.length).toBeGreaterThan(0);
    const rebuiltProductById = new Map(rebuiltProducts.map((product) => [product['productId'], product]));
    expect(ownersProducts.map((product) => rebuiltProductById.get(product['productId']) ?? { ...product, missing: true })).toEqual([
      ...ownersProducts,
    ]);

    // And the whole of it equals what order-svc built up incrementally since its first start.
    const live = connectAsSuperuser('orders', 1);
    try {
      expect(rebuiltUsers).toEqual([...(await live`select id, username from known_users order by id`)]);
      expect(rebuiltProducts).toEqual([...(await live`select product_id, price_cents, currency, active from catalog order by product_id`)]);
    } finally {
      await live.end();
    }
  });
});
