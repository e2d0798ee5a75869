import { SchemaRegistry, SchemaType, type DecodeOptions } from '@kafkajs/confluent-schema-registry';
import { readEventSchemas, type EventSchemaSource } from './schemas.ts';
import type { EventsByTopic, EventTopic } from './types.generated.ts';

type AvroReaderSchema = NonNullable<NonNullable<DecodeOptions[SchemaType.AVRO]>['readerSchema']>;

/**
 * Avro in the Confluent wire format, through the schema registry. Each topic's schema (from
 * schemas/<topic>.avsc) is registered under `<topic>-value` on first use and its id cached,
 * so only the first event of a topic talks to the registry; decoding caches writer schemas
 * by id the same way.
 */
export class EventCodec {
  private readonly registry: SchemaRegistry;
  private readonly sources: Map<string, EventSchemaSource>;
  private readonly schemaIds = new Map<EventTopic, Promise<number>>();

  constructor(registryUrl: string, sources: EventSchemaSource[] = readEventSchemas()) {
    this.registry = new SchemaRegistry({ host: registryUrl });
    this.sources = new Map(sources.map((source) => [source.topic, source]));
  }

  /** The registry id of the topic's schema, registering it (idempotently) the first time. */
  schemaId(topic: EventTopic): Promise<number> {
    let id = this.schemaIds.get(topic);
    if (!id) {
      id = Promise.resolve()
        .then(() => this.registry.register({ type: SchemaType.AVRO, schema: this.source(topic).text }, { subject: `${topic}-value` }))
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
   */
  async decode<T extends EventTopic>(topic: T, message: Buffer): Promise<EventsByTopic[T]> {
    const value: unknown = await this.registry.decode(message, {
      [SchemaType.AVRO]: { readerSchema: JSON.parse(this.source(topic).text) as AvroReaderSchema },
    });
    return value as EventsByTopic[T];
  }

  private source(topic: EventTopic): EventSchemaSource {
    const source = this.sources.get(topic);
    if (!source) throw new Error(`no schema for topic ${topic} in schemas/`);
    return source;
  }
}
