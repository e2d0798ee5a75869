// make docs: writes docs/asyncapi.yaml, the AsyncAPI 3 description of every topic, from the
// Avro sources in schemas/, the topic list in connect/topics.conf and the event catalogue
// (schemas/catalogue.ts: who writes and who reads each topic, an example of each). Nothing in the document is typed twice: a schema change
// shows up in it by regenerating, and a unit test (tests/unit/asyncapi.test.ts) fails while
// the committed file differs from what this produces.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import {
  DEAD_LETTER_TOPIC,
  deadLetterHeaderNames,
  eventCatalogue,
  readEventSchemas,
  serviceNamed,
  type DeadLetterReason,
  type EventSchemaSource,
  type EventTopic,
  type ServiceName,
} from '@shop/kit';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Why a consumer gives up on a message; typed by DeadLetterReason, so no reason is left out. */
const deadLetterReasons: Record<DeadLetterReason, string> = {
  UNDECODABLE:
    'the record could not be read (no UUID `id` header, no key or value, not Avro in the Confluent wire format, unknown schema id): dead-lettered at once',
  HANDLER_FAILED: 'applying the event kept failing for CONSUMER_MAX_ATTEMPTS attempts',
};

// Debezium adds these to every record it writes; nothing here reads them, and they are not
// part of the contract, but they are on the wire (and in dead letters, which keep all headers).
const debeziumContextHeaders: JsonObject = {
  '__debezium.context.connectorLogicalName': {
    type: 'string',
    description: "Added by Debezium: the connector's topic.prefix, which is the database name (e.g. orders).",
  },
  '__debezium.context.connectorName': { type: 'string', description: 'Added by Debezium: the connector type (postgresql).' },
  '__debezium.context.taskId': { type: 'string', description: 'Added by Debezium: the number of the connector task (0).' },
  '__debezium.context.runId': { type: 'string', description: 'Added by Debezium: an id of the current run of the connector task.' },
};

export interface TopicDefinition {
  name: string;
  partitions: number;
  /** Topic-level settings, e.g. retention.ms. */
  configs: Record<string, string>;
}

export const topicsFile = fileURLToPath(new URL('../../connect/topics.conf', import.meta.url));
export const asyncApiFile = fileURLToPath(new URL('../../docs/asyncapi.yaml', import.meta.url));

/** The topics connect/apply.sh creates: `name partitions [key=value,...]` per line. */
export function readTopicsConf(text: string = readFileSync(topicsFile, 'utf8')): TopicDefinition[] {
  const topics: TopicDefinition[] = [];
  for (const line of text.split('\n')) {
    const [name, partitions, configs] = line.trim().split(/\s+/);
    if (!name || name.startsWith('#')) continue;
    const settings = (configs ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]);
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

const databaseOf = (name: ServiceName): string => serviceNamed(name).database;

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
  const event = eventCatalogue[topic];
  return {
    name: textOf(schema, 'name'),
    title: topic,
    summary: textOf(schema, 'doc'),
    contentType: 'avro/binary',
    headers: {
      type: 'object',
      required: ['id', 'type'],
      properties: {
        id: {
          type: 'string',
          format: 'uuid',
          description: "The event's id (the outbox row's id). Consumers record it in processed_events: a redelivery is skipped.",
        },
        type: { type: 'string', const: topic, description: "The event type, which is also the topic name (the outbox row's type)." },
        ...debeziumContextHeaders,
      },
    },
    payload: { schemaFormat: AVRO_SCHEMA_FORMAT, schema },
    bindings: {
      kafka: {
        key: { type: 'string', format: 'uuid', description: `The ${event.aggregate} id (the outbox row's aggregateid).` },
        schemaIdLocation: 'payload',
        schemaIdPayloadEncoding: 'confluent',
        schemaLookupStrategy: 'TopicNameStrategy',
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
    examples: [
      {
        name: `${topic}-example`,
        headers: { id: '2d8c6f0e-41b7-4a39-9e52-c0f1a7d3b698', type: topic },
        payload: event.example as unknown as Json,
      },
    ],
  };
}

function deadLetterMessage(): JsonObject {
  const h = deadLetterHeaderNames;
  const text = (description: string): JsonObject => ({ type: 'string', description });
  const decimal = (description: string): JsonObject => ({ type: 'string', pattern: '^[0-9]+$', description });
  return {
    name: 'DeadLetter',
    title: DEAD_LETTER_TOPIC,
    summary:
      'A record a consumer group gave up on, with its original key, value and headers, and headers saying where it came from and why.',
    description:
      'Written by the consumer itself (kit/src/consumer/consumer.ts), not through an outbox: the record is not a domain event but a report about one. Read with `make dlq`; `make replay-dlq PARTITION=p OFFSET=o` sends it back to its source topic without the dlq.* headers.',
    contentType: 'application/octet-stream',
    headers: {
      type: 'object',
      required: Object.values(h).filter((name) => name !== h.valueDropped),
      properties: {
        id: { type: 'string', description: 'The original `id` header, when the record had one.' },
        type: {
          type: 'string',
          description: "The original `type` header, when the record had one (and so on for every original header, Debezium's included).",
        },
        [h.topic]: text('The topic the record was read from.'),
        [h.partition]: decimal('Its partition there.'),
        [h.offset]: decimal('Its offset there.'),
        [h.group]: text('The consumer group that gave up (a service name).'),
        [h.attempts]: decimal('How many times applying it was tried (1 for an undecodable record).'),
        [h.reason]: {
          type: 'string',
          enum: Object.keys(deadLetterReasons),
          description: Object.entries(deadLetterReasons)
            .map(([reason, meaning]) => `${reason}: ${meaning}.`)
            .join(' '),
        },
        [h.error]: text('The last error, as `Name: message`, cut to 2,000 characters.'),
        [h.failedAt]: { type: 'string', format: 'date-time', description: 'When it was dead-lettered.' },
        [h.valueDropped]: text(
          "Only when Kafka refused the letter with its value (a record just under the broker's size limit): the value's size and Kafka's error. The letter then has no value; the record is still at its source topic, partition and offset while that topic keeps it, and `make replay-dlq` refuses the letter.",
        ),
      },
    },
    payload: {
      description:
        "The original record's value, byte for byte (normally Avro in the Confluent wire format of the source topic's schema); none when the letter has `dlq.value.dropped`.",
    },
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
export function asyncApiDocument(
  schemas: EventSchemaSource[] = readEventSchemas(),
  topics: TopicDefinition[] = readTopicsConf(),
): JsonObject {
  const schemaOf = new Map(schemas.map((source) => [source.topic, JSON.parse(source.text) as JsonObject]));
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  const deadLetterWriters = new Set<ServiceName>();

  for (const topic of topics) {
    if (isHeartbeatTopic(topic.name)) continue;
    if (topic.name === DEAD_LETTER_TOPIC) continue;
    const schema = schemaOf.get(topic.name);
    if (!schema || !(topic.name in eventCatalogue))
      throw new Error(`topic ${topic.name} of connect/topics.conf has no schema in schemas/ or no entry in schemas/catalogue.ts`);
    const name = topic.name as EventTopic;
    const event = eventCatalogue[name];
    const messageName = textOf(schema, 'name');
    messages[messageName] = eventMessage(name, schema);
    const consumers = Object.keys(event.consumers) as ServiceName[];
    channels[name] = {
      address: name,
      title: name,
      description: [
        textOf(schema, 'doc'),
        `Written by ${event.producer} when ${event.when}, through the outbox of database \`${databaseOf(event.producer)}\` and the connector \`${databaseOf(event.producer)}-outbox\`.`,
        consumers.length > 0 ? `Consumed by ${consumers.join(' and ')}.` : 'No service consumes it yet.',
        `Value schema: subject \`${name}-value\`, from schemas/${name}.avsc.`,
      ].join('\n\n'),
      messages: { [messageName]: ref(`#/components/messages/${messageName}`) },
      bindings: channelBinding(topic),
    };
    const message = ref(`#/channels/${name}/messages/${messageName}`);
    operations[`${event.producer}_send_${name}`] = {
      action: 'send',
      channel: ref(`#/channels/${name}`),
      title: `${event.producer} publishes ${name}`,
      summary: `When ${event.when}.`,
      description:
        'The event row is inserted into the outbox table in the same transaction as the change it describes; Debezium reads it from the WAL and its EventRouter publishes it (topic = type, key = aggregateid, headers id and type, value = the payload bytes).',
      messages: [message],
    };
    for (const consumer of consumers) {
      deadLetterWriters.add(consumer);
      operations[`${consumer}_receive_${name}`] = {
        action: 'receive',
        channel: ref(`#/channels/${name}`),
        title: `${consumer} consumes ${name}`,
        summary: `${consumer} ${event.consumers[consumer]}.`,
        description:
          'Applied once: the event id goes into processed_events in the transaction of the effects. A failing event is retried with backoff and dead-lettered after CONSUMER_MAX_ATTEMPTS; an outage of the database, the registry or Kafka is waited out (payment-svc leaves a gateway that does not answer to its retry job, the payment pending).',
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
    description:
      'Dead letters: records a consumer group gave up on. Kept forever (retention.ms=-1): a dead letter is an event nobody has applied yet. No service consumes it; operators read it with `make dlq` and replay with `make replay-dlq`.',
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

  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
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
        'Generated from schemas/*.avsc, schemas/catalogue.ts and connect/topics.conf by tools/src/asyncapi.ts (`make docs`).',
      ].join('\n'),
    },
    defaultContentType: 'avro/binary',
    servers: {
      local: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        title: 'The development stack of `make up`',
        description:
          'One KRaft node, native or in Docker. Schemas are in Apicurio Registry, read and written through its Confluent-compatible API (so the Confluent serdes and wire format apply).',
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
  const header =
    '# Generated by tools/src/asyncapi.ts from schemas/*.avsc, schemas/catalogue.ts and connect/topics.conf. Do not edit:\n# change those and run `make docs`.\n';
  return header + stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(asyncApiFile, renderAsyncApi());
  console.log(`wrote ${asyncApiFile}`);
}
