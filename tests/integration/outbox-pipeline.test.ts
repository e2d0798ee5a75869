// The pipeline with no service code: an outbox row committed in a service database reaches
// its Kafka topic through Debezium with the contract's key, headers and Avro value, survives
// a Connect outage without loss or duplicates, and stays decodable after a registry restart.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, registryClient, requireEnv, type Sql, type Transaction, type UserRegistered } from '@shop/kit';
import { TopicRecorder } from '../harness/kafka.ts';
import { controlComponent, repositoryRoot, stackEndpoints } from '../harness/stack.ts';

const topic = 'user-registration';
const endpoints = stackEndpoints();

function exampleUser(): UserRegistered {
  const userId = randomUUID();
  return {
    userId,
    username: `smoke-${userId.slice(0, 8)}`,
    email: `smoke-${userId.slice(0, 8)}@example.test`,
    fullName: null,
    role: 'customer',
    registeredAt: Date.now(),
  };
}

let sql: Sql;
let registry: SchemaRegistry;
let schemaId: number;
let recorder: TopicRecorder;

async function insertOutboxRow(tx: Transaction, eventId: string, user: UserRegistered): Promise<void> {
  const payload = await registry.encode(schemaId, user);
  await tx`
    insert into outbox (id, aggregatetype, aggregateid, type, payload)
    values (${eventId}, 'user', ${user.userId}, ${topic}, ${payload})`;
}

beforeAll(async () => {
  sql = connectDatabase({
    host: endpoints.pgHost,
    port: endpoints.pgPort,
    database: 'users',
    username: 'users',
    password: requireEnv('USERS_DB_PASSWORD'),
  });
  registry = registryClient(endpoints.registryUrl);
  const schema = await readFile(`${repositoryRoot}/schemas/${topic}.avsc`, 'utf8');
  ({ id: schemaId } = await registry.register({ type: SchemaType.AVRO, schema }, { subject: `${topic}-value` }));
  recorder = await TopicRecorder.start(endpoints.kafkaBrokers, [topic]);
});

afterAll(async () => {
  await recorder?.stop();
  await sql?.end();
});

describe('outbox → Debezium → Kafka', () => {
  const first = { eventId: randomUUID(), user: exampleUser() };

  it('routes an outbox row to its topic with key, headers and an Avro value that decodes to the same record', async () => {
    await sql.begin((tx) => insertOutboxRow(tx, first.eventId, first.user));

    await recorder.waitFor('the outbox event', (records) => records.some((r) => r.headers['id'] === first.eventId));
    const [record] = recorder.withEventIds(new Set([first.eventId]));

    expect(record?.topic).toBe(topic);
    expect(record?.key).toBe(first.user.userId);
    expect(record?.headers).toMatchObject({ id: first.eventId, type: topic });
    // Confluent wire format: magic byte 0, then the 4-byte id the registry gave the schema.
    expect(record?.value?.readUInt8(0)).toBe(0);
    expect(record?.value?.readInt32BE(1)).toBe(schemaId);
    expect(await registry.decode(record!.value!)).toEqual(first.user);
  });

  it('delivers every row committed while Kafka Connect was down, each exactly once', async () => {
    const kind = inject('stackKind');
    const aggregateId = randomUUID();
    const ids = new Set<string>();

    await controlComponent(kind, 'stop', 'connect');
    try {
      // 200 separate transactions, all for one aggregate so they share a partition and
      // the sentinel below arrives after every one of them (and after any duplicate).
      for (let i = 0; i < 200; i++) {
        const eventId = randomUUID();
        ids.add(eventId);
        await sql.begin((tx) => insertOutboxRow(tx, eventId, { ...exampleUser(), userId: aggregateId }));
      }
    } finally {
      await controlComponent(kind, 'start', 'connect');
    }
    const sentinel = randomUUID();
    await sql.begin((tx) => insertOutboxRow(tx, sentinel, { ...exampleUser(), userId: aggregateId }));

    await recorder.waitFor('the sentinel after 200 events', (records) => records.some((r) => r.headers['id'] === sentinel), 120_000);

    const delivered = recorder.withEventIds(ids);
    const perId = new Map<string, number>();
    for (const r of delivered) perId.set(r.headers['id']!, (perId.get(r.headers['id']!) ?? 0) + 1);
    expect(perId.size).toBe(200);
    expect([...perId.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(delivered.map((r) => r.key))).toEqual(new Set([aggregateId]));
  });

  it('decodes an old message after the registry restarts (schema ids are persistent)', async () => {
    const kind = inject('stackKind');
    const [record] = recorder.withEventIds(new Set([first.eventId]));
    expect(record?.value).toBeTruthy();

    await controlComponent(kind, 'stop', 'registry');
    await controlComponent(kind, 'start', 'registry');

    // A new client has no cached schemas: it must fetch the id from the restarted registry.
    const freshClient = registryClient(endpoints.registryUrl);
    expect(await freshClient.decode(record!.value!)).toEqual(first.user);
  });
});
