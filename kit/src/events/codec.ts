import { SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { registryClient } from './registry-client.ts';
import { readEventSchemas, readSchemaHistory, type EventSchemaSource } from './schemas.ts';
import type { EventsByTopic, EventTopic } from '../../../schemas/types.generated.ts';

/** The Confluent wire format: magic byte 0, the writer's schema id (4 bytes), the Avro body. */
const WIRE_HEADER_BYTES = 5;

/** The writer's schema id of a message in the wire format; throws for anything else. */
export function wireSchemaId(message: Buffer): number {
  if (message.length < WIRE_HEADER_BYTES || message[0] !== 0) {
    throw new Error('not in the Confluent wire format (magic byte 0 and a schema id)');
  }
  return message.readInt32BE(1);
}

/**
 * Avro in the Confluent wire format, through the schema registry. Each topic's schema (from
 * schemas/<topic>.avsc) is registered under `<topic>-value` on first use and its id cached,
 * so only the first event of a topic talks to the registry; decoding caches writer schemas
 * by id the same way. The topic's earlier versions (schemas/history/) are registered first,
 * in order: registering a schema the subject has is a no-op, so on a registry that has them
 * this changes nothing, and a new registry numbers the versions as a long-lived one does.
 */
export class EventCodec {
  private readonly registry: SchemaRegistry;
  private readonly sources: Map<string, EventSchemaSource>;
  private readonly schemaIds = new Map<EventTopic, Promise<number>>();
  private readonly readerTypes = new Map<EventTopic, avro.Type>();
  /** Per topic and writer schema id; null when the writer's schema is the reader's. */
  private readonly resolvers = new Map<string, ReturnType<avro.Type['createResolver']> | null>();

  constructor(registryUrl: string, sources: EventSchemaSource[] = readEventSchemas()) {
    this.registry = registryClient(registryUrl);
    this.sources = new Map(sources.map((source) => [source.topic, source]));
  }

  /** The registry id of the topic's schema, registering it (idempotently) the first time. */
  schemaId(topic: EventTopic): Promise<number> {
    let id = this.schemaIds.get(topic);
    if (!id) {
      id = Promise.resolve()
        .then(async () => {
          const subject = `${topic}-value`;
          for (const earlier of readSchemaHistory(topic)) {
            await this.registry.register({ type: SchemaType.AVRO, schema: earlier.text }, { subject });
          }
          return this.registry.register({ type: SchemaType.AVRO, schema: this.source(topic).text }, { subject });
        })
        .then((registered) => registered.id);
      // A failed registration (registry down) must not be cached: the next call retries.
      id.catch(() => this.schemaIds.delete(topic));
      this.schemaIds.set(topic, id);
    }
    return id;
  }

  async encode<T extends EventTopic>(topic: T, value: EventsByTopic[T]): Promise<Buffer> {
    return this.registry.encode(await this.schemaId(topic), value);
  }

  /**
   * Decodes a Confluent-framed Avro message of `topic`, resolving the writer's schema
   * (looked up by the id in the message) against this code's schema of the topic, so the
   * value has the shape of the generated type even when the writer used an older version.
   * The reader type and each resolver are built once: building them compiles code, which
   * per message cost more than the rest of decoding.
   */
  async decode<T extends EventTopic>(topic: T, message: Buffer): Promise<EventsByTopic[T]> {
    const writerId = wireSchemaId(message);
    const writer = (await this.registry.getSchema(writerId)) as unknown as avro.Type;
    const reader = this.readerType(topic);
    const key = `${topic}/${writerId}`;
    let resolver = this.resolvers.get(key);
    if (resolver === undefined) {
      resolver = reader.equals(writer) ? null : reader.createResolver(writer);
      this.resolvers.set(key, resolver);
    }
    return reader.fromBuffer(message.subarray(WIRE_HEADER_BYTES), resolver ?? undefined) as EventsByTopic[T];
  }

  /**
   * Decodes a message with its writer's schema alone, as it was written, for the tools that
   * show records: one written with a newer schema than this code's (a symbol or a field this
   * code does not know, which decode cannot resolve) is still shown.
   */
  async decodeAsWritten(message: Buffer): Promise<unknown> {
    return (await this.writerType(wireSchemaId(message))).fromBuffer(message.subarray(WIRE_HEADER_BYTES));
  }

  /** The schema a writer used, from the registry by its id (the library keeps it once read). */
  async writerType(schemaId: number): Promise<avro.Type> {
    return (await this.registry.getSchema(schemaId)) as unknown as avro.Type;
  }

  private readerType(topic: EventTopic): avro.Type {
    let type = this.readerTypes.get(topic);
    if (!type) {
      type = avro.Type.forSchema(JSON.parse(this.source(topic).text) as avro.Schema);
      this.readerTypes.set(topic, type);
    }
    return type;
  }

  private source(topic: EventTopic): EventSchemaSource {
    const source = this.sources.get(topic);
    if (!source) throw new Error(`no schema for topic ${topic} in schemas/`);
    return source;
  }
}
