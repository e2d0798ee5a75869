// make docs: writes docs/asyncapi.yaml, the AsyncAPI 3 description of every topic, from the
// Avro sources in schemas/, the topic list in connect/topics.conf and the table below of who
// writes and who reads each topic. Nothing in the document is typed twice: a schema change
// shows up in it by regenerating, and a unit test (tests/unit/asyncapi.test.ts) fails while
// the committed file differs from what this produces.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { DEAD_LETTER_TOPIC, deadLetterHeaderNames, type DeadLetterReason } from '../consumer/dead-letter.ts';
import { readEventSchemas, type EventSchemaSource } from '../events/schemas.ts';
import type { EventsByTopic, EventTopic } from '../events/types.generated.ts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export type EventService = 'user-svc' | 'product-svc' | 'order-svc' | 'payment-svc';

export interface EventFlow {
  /** The service whose outbox the event leaves through, and when it writes one. */
  producer: { service: EventService; when: string };
  /** The consumer groups (a group is named after its service) and what each does with the event. */
  consumers: Partial<Record<EventService, string>>;
  /** What the record key identifies. */
  key: 'user' | 'product' | 'order';
}

/**
 * Who writes and who reads each event topic. Typed by the generated EventTopic, so a new
 * schema without an entry here does not type-check; the unit test compares producers and
 * consumers with the services' `produces` lists and event handlers.
 */
export const eventFlows = {
  'user-registration': {
    producer: { service: 'user-svc', when: 'an account is created (POST /users, and the admin account at first start)' },
    consumers: { 'order-svc': 'remembers the user in known_users, so that the user may place orders' },
    key: 'user',
  },
  'product-update': {
    producer: { service: 'product-svc', when: 'a product is created, changed or deactivated, and whenever its stock moves (reservation, release)' },
    consumers: { 'order-svc': 'keeps its catalog copy (price, currency, active) unless it already holds a newer version' },
    key: 'product',
  },
  'order-placed': {
    producer: { service: 'order-svc', when: 'an order is accepted as PENDING (POST /orders)' },
    consumers: {
      'payment-svc': 'charges the total through the gateway (idempotency key charge:<order id>) and writes payment-success or payment-failure',
      'product-svc': 'reserves stock for every line or for none and writes inventory-reserved or inventory-rejected',
    },
    key: 'order',
  },
  'order-confirmed': {
    producer: { service: 'order-svc', when: 'both the payment and the stock of a PENDING order succeeded' },
    consumers: {},
    key: 'order',
  },
  'order-cancelled': {
    producer: { service: 'order-svc', when: 'the first failure (payment or stock) of a PENDING order is reported' },
    consumers: {
      'payment-svc': 'refunds a successful charge (idempotency key refund:<order id>) and writes payment-refunded',
      'product-svc': 'gives a reservation back (product-update STOCK_CHANGED), or remembers a cancellation that came first',
    },
    key: 'order',
  },
  'payment-success': {
    producer: { service: 'payment-svc', when: 'the gateway charged the order' },
    consumers: { 'order-svc': 'records the payment outcome; confirms the order when its stock is reserved too' },
    key: 'order',
  },
  'payment-failure': {
    producer: { service: 'payment-svc', when: 'the card was declined, or the gateway kept failing (PAYMENT_ERROR)' },
    consumers: { 'order-svc': 'cancels the order (PAYMENT_DECLINED or PAYMENT_ERROR) unless it is already final' },
    key: 'order',
  },
  'payment-refunded': {
    producer: { service: 'payment-svc', when: 'the charge of a cancelled order was refunded' },
    consumers: {},
    key: 'order',
  },
  'inventory-reserved': {
    producer: { service: 'product-svc', when: 'stock for every line of an order was taken' },
    consumers: { 'order-svc': 'records the stock outcome; confirms the order when its payment succeeded too' },
    key: 'order',
  },
  'inventory-rejected': {
    producer: { service: 'product-svc', when: 'at least one line of an order could not be served, so nothing was reserved' },
    consumers: { 'order-svc': 'cancels the order (OUT_OF_STOCK) unless it is already final' },
    key: 'order',
  },
} as const satisfies Record<EventTopic, EventFlow>;

/** Why a consumer gives up on a message; typed by DeadLetterReason, so no reason is left out. */
const deadLetterReasons: Record<DeadLetterReason, string> = {
  UNDECODABLE: 'the record could not be read (no UUID `id` header, no key or value, not Avro in the Confluent wire format, unknown schema id): dead-lettered at once',
  HANDLER_FAILED: 'applying the event kept failing for CONSUMER_MAX_ATTEMPTS attempts',
};

// Debezium adds these to every record it writes; nothing here reads them, and they are not
// part of the contract, but they are on the wire (and in dead letters, which keep all headers).
const debeziumContextHeaders: JsonObject = {
  '__debezium.context.connectorLogicalName': { type: 'string', description: "Added by Debezium: the connector's topic.prefix, which is the database name (e.g. orders)." },
  '__debezium.context.connectorName': { type: 'string', description: 'Added by Debezium: the connector type (postgresql).' },
  '__debezium.context.taskId': { type: 'string', description: 'Added by Debezium: the number of the connector task (0).' },
  '__debezium.context.runId': { type: 'string', description: 'Added by Debezium: an id of the current run of the connector task.' },
};

const ids = {
  user: '6f1c2a9e-3b7d-4c41-9a55-0d2e8b7f4c13',
  product: '0b8e4d1a-7c62-4f3e-8d59-2a41c6e9b705',
  order: 'c3a7f215-9d84-4b6e-a1f0-5e2d7b93c864',
  payment: '9e45b1c7-2f63-4a8d-b0e9-71c5d3a28f46',
} as const;
const at = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/** One example value per topic, typed by the generated event types and checked against the schemas by the unit test. */
export const eventExamples: EventsByTopic = {
  'user-registration': { userId: ids.user, username: 'alice', email: 'alice@example.com', fullName: 'Alice', role: 'customer', registeredAt: at },
  'product-update': {
    productId: ids.product, change: 'STOCK_CHANGED', name: 'Mug', description: 'Blue, 300 ml', priceCents: 1299, currency: 'EUR',
    stock: 8, active: true, version: 2, updatedAt: at + 1_000,
  },
  'order-placed': {
    orderId: ids.order, userId: ids.user, items: [{ productId: ids.product, quantity: 2, unitPriceCents: 1299 }], totalCents: 2598,
    currency: 'EUR', paymentToken: 'tok_ok', placedAt: at + 1_000,
  },
  'order-confirmed': { orderId: ids.order, userId: ids.user, totalCents: 2598, currency: 'EUR', confirmedAt: at + 2_000 },
  'order-cancelled': { orderId: ids.order, userId: ids.user, reason: 'OUT_OF_STOCK', cancelledAt: at + 2_000 },
  'payment-success': {
    paymentId: ids.payment, orderId: ids.order, userId: ids.user, amountCents: 2598, currency: 'EUR',
    gatewayChargeId: 'ch_5b0f3c1e-8a27-4d96-b3e1-6c9f20d7a458', processedAt: at + 1_500,
  },
  'payment-failure': {
    paymentId: ids.payment, orderId: ids.order, userId: ids.user, amountCents: 2598, currency: 'EUR', reason: 'CARD_DECLINED',
    detail: 'The card was declined (charge ch_5b0f3c1e-8a27-4d96-b3e1-6c9f20d7a458).', processedAt: at + 1_500,
  },
  'payment-refunded': {
    paymentId: ids.payment, orderId: ids.order, userId: ids.user, amountCents: 2598, currency: 'EUR',
    gatewayChargeId: 'ch_5b0f3c1e-8a27-4d96-b3e1-6c9f20d7a458', gatewayRefundId: 're_7d2a9f04-1c5b-4e83-9b6d-3f8e0a1c2b57', refundedAt: at + 3_000,
  },
  'inventory-reserved': { orderId: ids.order, items: [{ productId: ids.product, quantity: 2 }], reservedAt: at + 1_500 },
  'inventory-rejected': { orderId: ids.order, shortages: [{ productId: ids.product, requested: 2, available: 1 }], rejectedAt: at + 1_500 },
};

export interface TopicDefinition {
  name: string;
  partitions: number;
  /** Topic-level settings, e.g. retention.ms. */
  configs: Record<string, string>;
}

export const topicsFile = fileURLToPath(new URL('../../../connect/topics.conf', import.meta.url));
export const asyncApiFile = fileURLToPath(new URL('../../../docs/asyncapi.yaml', import.meta.url));

/** The topics connect/apply.sh creates: `name partitions [key=value,...]` per line. */
export function readTopicsConf(text: string = readFileSync(topicsFile, 'utf8')): TopicDefinition[] {
  const topics: TopicDefinition[] = [];
  for (const line of text.split('\n')) {
    const [name, partitions, configs] = line.trim().split(/\s+/);
    if (!name || name.startsWith('#')) continue;
    const settings = (configs ?? '').split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]);
    topics.push({ name, partitions: Number(partitions), configs: Object.fromEntries(settings) });
  }
  return topics;
}

/** Debezium's heartbeat topics: internal to Connect, not part of the event contract. */
export const isHeartbeatTopic = (topic: string) => topic.startsWith('__debezium-heartbeat.');

// The development stack: connect/apply.sh creates every topic with one replica; the addresses
// are the contract's defaults.
const REPLICAS = 1;
const KAFKA_BINDING_VERSION = '0.5.0';
const AVRO_SCHEMA_FORMAT = 'application/vnd.apache.avro;version=1.9.0';

const databaseOf: Record<EventService, string> = { 'user-svc': 'users', 'product-svc': 'products', 'order-svc': 'orders', 'payment-svc': 'payments' };

/** A text attribute of an Avro record schema; schemas/ test that every record has a name and a doc. */
function textOf(schema: JsonObject, attribute: 'name' | 'doc'): string {
  const value = schema[attribute];
  if (typeof value !== 'string') throw new Error(`an Avro schema in schemas/ has no ${attribute}`);
  return value;
}
const numeric = (value: string): Json => (/^-?\d+$/.test(value) ? Number(value) : value);

function channelBinding(topic: TopicDefinition): JsonObject {
  const configs = Object.entries(topic.configs);
  return {
    kafka: {
      partitions: topic.partitions,
      replicas: REPLICAS,
      ...(configs.length > 0 ? { topicConfiguration: Object.fromEntries(configs.map(([name, value]) => [name, numeric(value)])) } : {}),
      bindingVersion: KAFKA_BINDING_VERSION,
    },
  };
}

function eventMessage(topic: EventTopic, schema: JsonObject): JsonObject {
  const flow: EventFlow = eventFlows[topic];
  return {
    name: textOf(schema, 'name'),
    title: topic,
    summary: textOf(schema, 'doc'),
    contentType: 'avro/binary',
    headers: {
      type: 'object',
      required: ['id', 'type'],
      properties: {
        id: { type: 'string', format: 'uuid', description: "The event's id (the outbox row's id). Consumers record it in processed_events: a redelivery is skipped." },
        type: { type: 'string', const: topic, description: 'The event type, which is also the topic name (the outbox row\'s type).' },
        ...debeziumContextHeaders,
      },
    },
    payload: { schemaFormat: AVRO_SCHEMA_FORMAT, schema },
    bindings: {
      kafka: {
        key: { type: 'string', format: 'uuid', description: `The ${flow.key} id (the outbox row's aggregateid).` },
        schemaIdLocation: 'payload',
        schemaIdPayloadEncoding: 'confluent',
        schemaLookupStrategy: 'TopicNameStrategy',
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
    examples: [{ name: `${topic}-example`, headers: { id: '2d8c6f0e-41b7-4a39-9e52-c0f1a7d3b698', type: topic }, payload: eventExamples[topic] as unknown as Json }],
  };
}

function deadLetterMessage(): JsonObject {
  const h = deadLetterHeaderNames;
  const text = (description: string): JsonObject => ({ type: 'string', description });
  const decimal = (description: string): JsonObject => ({ type: 'string', pattern: '^[0-9]+$', description });
  return {
    name: 'DeadLetter',
    title: DEAD_LETTER_TOPIC,
    summary: 'A record a consumer group gave up on, with its original key, value and headers, and headers saying where it came from and why.',
    description: 'Written by the consumer itself (kit/src/consumer/consumer.ts), not through an outbox: the record is not a domain event but a report about one. Read with `make dlq`; `make replay-dlq PARTITION=p OFFSET=o` sends it back to its source topic without the dlq.* headers.',
    contentType: 'application/octet-stream',
    headers: {
      type: 'object',
      required: Object.values(h),
      properties: {
        id: { type: 'string', description: 'The original `id` header, when the record had one.' },
        type: { type: 'string', description: 'The original `type` header, when the record had one (and so on for every original header, Debezium\'s included).' },
        [h.topic]: text('The topic the record was read from.'),
        [h.partition]: decimal('Its partition there.'),
        [h.offset]: decimal('Its offset there.'),
        [h.group]: text('The consumer group that gave up (a service name).'),
        [h.attempts]: decimal('How many times applying it was tried (1 for an undecodable record).'),
        [h.reason]: {
          type: 'string',
          enum: Object.keys(deadLetterReasons),
          description: Object.entries(deadLetterReasons).map(([reason, meaning]) => `${reason}: ${meaning}.`).join(' '),
        },
        [h.error]: text('The last error, as `Name: message`, cut to 2,000 characters.'),
        [h.failedAt]: { type: 'string', format: 'date-time', description: 'When it was dead-lettered.' },
      },
    },
    payload: { description: "The original record's value, byte for byte (normally Avro in the Confluent wire format of the source topic's schema)." },
    bindings: {
      kafka: {
        key: { type: 'string', description: "The original record's key." },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

const ref = (path: string): JsonObject => ({ $ref: path });

/** The AsyncAPI 3.0 document, as plain data. */
export function asyncApiDocument(schemas: EventSchemaSource[] = readEventSchemas(), topics: TopicDefinition[] = readTopicsConf()): JsonObject {
  const schemaOf = new Map(schemas.map((source) => [source.topic, JSON.parse(source.text) as JsonObject]));
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  const deadLetterWriters = new Set<EventService>();

  for (const topic of topics) {
    if (isHeartbeatTopic(topic.name)) continue;
    if (topic.name === DEAD_LETTER_TOPIC) continue;
    const schema = schemaOf.get(topic.name);
    if (!schema || !(topic.name in eventFlows)) throw new Error(`topic ${topic.name} of connect/topics.conf has no schema in schemas/ or no entry in eventFlows`);
    const name = topic.name as EventTopic;
    const flow: EventFlow = eventFlows[name];
    const messageName = textOf(schema, 'name');
    messages[messageName] = eventMessage(name, schema);
    const consumers = Object.keys(flow.consumers) as EventService[];
    channels[name] = {
      address: name,
      title: name,
      description: [
        textOf(schema, 'doc'),
        `Written by ${flow.producer.service} when ${flow.producer.when}, through the outbox of database \`${databaseOf[flow.producer.service]}\` and the connector \`${databaseOf[flow.producer.service]}-outbox\`.`,
        consumers.length > 0 ? `Consumed by ${consumers.join(' and ')}.` : 'No service consumes it yet.',
        `Value schema: subject \`${name}-value\`, from schemas/${name}.avsc.`,
      ].join('\n\n'),
      messages: { [messageName]: ref(`#/components/messages/${messageName}`) },
      bindings: channelBinding(topic),
    };
    const message = ref(`#/channels/${name}/messages/${messageName}`);
    operations[`${flow.producer.service}_send_${name}`] = {
      action: 'send',
      channel: ref(`#/channels/${name}`),
      title: `${flow.producer.service} publishes ${name}`,
      summary: `When ${flow.producer.when}.`,
      description: 'The event row is inserted into the outbox table in the same transaction as the change it describes; Debezium reads it from the WAL and its EventRouter publishes it (topic = type, key = aggregateid, headers id and type, value = the payload bytes).',
      messages: [message],
    };
    for (const consumer of consumers) {
      deadLetterWriters.add(consumer);
      operations[`${consumer}_receive_${name}`] = {
        action: 'receive',
        channel: ref(`#/channels/${name}`),
        title: `${consumer} consumes ${name}`,
        summary: `${consumer} ${flow.consumers[consumer]}.`,
        description: 'Applied once: the event id goes into processed_events in the transaction of the effects. A failing event is retried with backoff and dead-lettered after CONSUMER_MAX_ATTEMPTS; an outage (database, registry, Kafka, the gateway) is waited out.',
        bindings: { kafka: { groupId: { type: 'string', enum: [consumer] }, bindingVersion: KAFKA_BINDING_VERSION } },
        messages: [message],
      };
    }
  }

  for (const name of schemaOf.keys()) {
    if (!(name in channels)) throw new Error(`schemas/${name}.avsc has no topic in connect/topics.conf`);
  }
  const deadLetters = topics.find((topic) => topic.name === DEAD_LETTER_TOPIC);
  if (!deadLetters) throw new Error(`connect/topics.conf has no ${DEAD_LETTER_TOPIC} topic`);
  messages['DeadLetter'] = deadLetterMessage();
  channels[DEAD_LETTER_TOPIC] = {
    address: DEAD_LETTER_TOPIC,
    title: DEAD_LETTER_TOPIC,
    description: 'Dead letters: records a consumer group gave up on. Kept forever (retention.ms=-1): a dead letter is an event nobody has applied yet. No service consumes it; operators read it with `make dlq` and replay with `make replay-dlq`.',
    messages: { DeadLetter: ref('#/components/messages/DeadLetter') },
    bindings: channelBinding(deadLetters),
  };
  for (const service of [...deadLetterWriters].sort()) {
    operations[`${service}_send_${DEAD_LETTER_TOPIC}`] = {
      action: 'send',
      channel: ref(`#/channels/${DEAD_LETTER_TOPIC}`),
      title: `${service} dead-letters an event`,
      summary: `A record of a topic ${service} consumes that it could not decode, or could not apply after CONSUMER_MAX_ATTEMPTS.`,
      messages: [ref(`#/channels/${DEAD_LETTER_TOPIC}/messages/DeadLetter`)],
    };
  }

  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'shop events',
      version,
      description: [
        'The events the shop services exchange through Kafka.',
        '',
        "Every event leaves its service through a transactional outbox: the domain rows and the outbox row commit in one PostgreSQL transaction, and Debezium's PostgreSQL connector with its outbox EventRouter streams the row to the topic named by its type. No service produces an event to Kafka directly.",
        '',
        '- Key: the aggregate id (user, product or order). Headers: `id` (the event UUID) and `type` (the event type, also the topic).',
        '- Value: Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary), schema registered under `<topic>-value` with compatibility BACKWARD.',
        '- Consumers are idempotent (the event id is recorded with the effects) and keep going after a poison message by dead-lettering it to `dlq`.',
        '',
        'Generated from schemas/*.avsc and connect/topics.conf by kit/src/cli/asyncapi.ts (`make docs`).',
      ].join('\n'),
    },
    defaultContentType: 'avro/binary',
    servers: {
      local: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        title: 'The development stack of `make up`',
        description: "One KRaft node, native or in Docker. Schemas are in Apicurio Registry, read and written through its Confluent-compatible API (so the Confluent serdes and wire format apply).",
        bindings: {
          kafka: {
            schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
            schemaRegistryVendor: 'confluent',
            bindingVersion: KAFKA_BINDING_VERSION,
          },
        },
      },
    },
    channels,
    operations,
    components: { messages },
  };
}

/** The document as committed: YAML, with a header that says where it comes from. */
export function renderAsyncApi(document: JsonObject = asyncApiDocument()): string {
  const header = '# Generated by kit/src/cli/asyncapi.ts from schemas/*.avsc and connect/topics.conf. Do not edit:\n# change those and run `make docs`.\n';
  return header + stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(asyncApiFile, renderAsyncApi());
  console.log(`wrote ${asyncApiFile}`);
}
