// docs/asyncapi.yaml against its sources: it is what tools/src/asyncapi.ts makes of schemas/
// and connect/topics.conf today, and it describes every topic and schema. That the services'
// handlers are the catalogue's consumers is checked by building them (tests/unit/routes.test.ts).
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { eventCatalogue, eventTopics, readEventSchemas } from '@shop/kit';
import { asyncApiFile, isHeartbeatTopic, readTopicsConf, renderAsyncApi } from '../../tools/src/asyncapi.ts';
import { repositoryRoot } from '../harness/stack.ts';

interface AsyncApi {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string } }>;
  components: { messages: Record<string, { payload: { schemaFormat?: string; schema?: unknown } }> };
}

const committed = readFileSync(asyncApiFile, 'utf8');
const document = parse(committed) as AsyncApi;
const schemas = readEventSchemas();
const contractTopics = readTopicsConf()
  .map((topic) => topic.name)
  .filter((name) => !isHeartbeatTopic(name));

describe('docs/asyncapi.yaml', () => {
  it('is what tools/src/asyncapi.ts generates from schemas/ and connect/topics.conf (run `make docs`)', () => {
    expect(committed, 'docs/asyncapi.yaml is out of date: run `make docs`').toBe(renderAsyncApi());
  });

  it('has a channel for every topic of connect/topics.conf except the Debezium heartbeats', () => {
    expect(Object.keys(document.channels).sort()).toEqual([...contractTopics].sort());
    for (const [name, channel] of Object.entries(document.channels)) expect(channel.address).toBe(name);
  });

  it.each(schemas.map((source) => [source.topic, source.text]))('embeds schemas/%s.avsc unchanged as an Avro payload', (topic, text) => {
    const references = Object.values(document.channels[topic]?.messages ?? {});
    expect(references).toHaveLength(1);
    const name = references[0]!.$ref.split('/').at(-1)!;
    expect(document.components.messages[name]?.payload).toEqual({
      schemaFormat: 'application/vnd.apache.avro;version=1.9.0',
      schema: JSON.parse(text) as unknown,
    });
  });

  it.each(eventTopics.map((topic) => [topic]))('%s: the example is valid against its schema', (topic) => {
    const source = schemas.find((s) => s.topic === topic)!;
    const type = avro.Type.forSchema(JSON.parse(source.text) as avro.Schema);
    expect(type.isValid(eventCatalogue[topic].example)).toBe(true);
  });

  it('has an operation for every producer and every consumer', () => {
    for (const topic of eventTopics) {
      const event = eventCatalogue[topic];
      expect(document.operations[`${event.producer}_send_${topic}`]?.action).toBe('send');
      for (const consumer of Object.keys(event.consumers))
        expect(document.operations[`${consumer}_receive_${topic}`]?.action).toBe('receive');
    }
  });
});

describe('docs/events.md', () => {
  it('has a section for every topic of connect/topics.conf except the Debezium heartbeats', () => {
    const catalogue = readFileSync(`${repositoryRoot}/docs/events.md`, 'utf8');
    for (const topic of contractTopics) expect(catalogue, topic).toMatch(new RegExp(`^### \`${topic}\`$`, 'm'));
  });
});
