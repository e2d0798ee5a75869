// docs/asyncapi.yaml against its sources: it is what kit/src/cli/asyncapi.ts makes of schemas/
// and connect/topics.conf today, it describes every topic and schema, and its table of
// producers and consumers is the one the services' code implements.
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EventCodec, eventTopics, readEventSchemas, type EventHandlers } from '@shop/kit';
import { asyncApiFile, eventExamples, eventFlows, isHeartbeatTopic, readTopicsConf, renderAsyncApi, type EventService } from '../../kit/src/cli/asyncapi.ts';
import { orderEventHandlers } from '../../order-svc/src/events/handlers.ts';
import { GatewayClient } from '../../payment-svc/src/data-access/gateway-client.ts';
import { paymentEventHandlers } from '../../payment-svc/src/events/handlers.ts';
import { inventoryEventHandlers } from '../../product-svc/src/events/handlers.ts';
import { repositoryRoot } from '../harness/stack.ts';

interface AsyncApi {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string } }>;
  components: { messages: Record<string, { payload: { schemaFormat?: string; schema?: unknown } }> };
}

const committed = readFileSync(asyncApiFile, 'utf8');
const document = parse(committed) as AsyncApi;
const schemas = readEventSchemas();
const contractTopics = readTopicsConf().map((topic) => topic.name).filter((name) => !isHeartbeatTopic(name));

// Building the handlers only wires objects together: no connection is opened.
const codec = new EventCodec('http://127.0.0.1:1');
const gateway = new GatewayClient({ url: 'http://127.0.0.1:1', maxAttempts: 1, retryBaseMs: 1, timeoutMs: 100 });
const handlersOf: Record<EventService, EventHandlers> = {
  'user-svc': {},
  'product-svc': inventoryEventHandlers(codec),
  'order-svc': orderEventHandlers(codec),
  'payment-svc': paymentEventHandlers({ codec, gateway }),
};

/** The topics a service's runService definition says it writes to its outbox. */
function producedBy(service: EventService): string[] {
  const main = readFileSync(`${repositoryRoot}/${service}/src/main.ts`, 'utf8');
  const list = /produces:\s*\[([^\]]*)\]/.exec(main)?.[1];
  if (list === undefined) throw new Error(`${service}/src/main.ts has no produces list`);
  return [...list.matchAll(/'([a-z-]+)'/g)].map((match) => match[1]!);
}

describe('docs/asyncapi.yaml', () => {
  it('is what kit/src/cli/asyncapi.ts generates from schemas/ and connect/topics.conf (run `make docs`)', () => {
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
    expect(document.components.messages[name]?.payload).toEqual({ schemaFormat: 'application/vnd.apache.avro;version=1.9.0', schema: JSON.parse(text) as unknown });
  });

  it.each(eventTopics.map((topic) => [topic]))('%s: the example is valid against its schema', (topic) => {
    const source = schemas.find((s) => s.topic === topic)!;
    const type = avro.Type.forSchema(JSON.parse(source.text) as avro.Schema);
    expect(type.isValid(eventExamples[topic])).toBe(true);
  });

  it('names as producer of each topic the service whose definition lists it in `produces`', () => {
    for (const service of Object.keys(handlersOf) as EventService[]) {
      const documented = eventTopics.filter((topic) => eventFlows[topic].producer.service === service);
      expect(producedBy(service).sort(), service).toEqual([...documented].sort());
    }
  });

  it("names as consumers of each topic the services with a handler for it", () => {
    for (const topic of eventTopics) {
      const implemented = (Object.keys(handlersOf) as EventService[]).filter((service) => topic in handlersOf[service]);
      expect(Object.keys(eventFlows[topic].consumers).sort(), topic).toEqual(implemented.sort());
    }
  });

  it('has an operation for every producer and every consumer', () => {
    for (const topic of eventTopics) {
      const flow = eventFlows[topic];
      expect(document.operations[`${flow.producer.service}_send_${topic}`]?.action).toBe('send');
      for (const consumer of Object.keys(flow.consumers)) expect(document.operations[`${consumer}_receive_${topic}`]?.action).toBe('receive');
    }
  });
});

describe('docs/events.md', () => {
  it('has a section for every topic of connect/topics.conf except the Debezium heartbeats', () => {
    const catalogue = readFileSync(`${repositoryRoot}/docs/events.md`, 'utf8');
    for (const topic of contractTopics) expect(catalogue, topic).toMatch(new RegExp(`^### \`${topic}\`$`, 'm'));
  });
});
