// `make bench-floor`: what the pipeline itself costs per order, with none of the services' own
// work: the floor under the stack's CPU per order (issue 16). A null saga of the real one's
// shape runs beside the idle services, through the same PostgreSQL, connectors, broker and
// kafkajs settings, on topics of its own (floor-*, created and deleted here):
//
//   floor-placed     one outbox insert per order in `orders`, a statement of its own (POST /orders)
//   floor-paid       from `payments`, one per floor-placed                      (payment-svc)
//   floor-reserved   from `products`, with floor-stock, one each per floor-placed (product-svc)
//   floor-confirmed  from `orders`, one per floor-paid; floor-reserved recorded,
//                    floor-stock skipped before any transaction                  (order-svc)
//   (end)            `notifications` records floor-confirmed                     (notification-svc)
//
// Each hop consumes with the kit's settings, gathers a fetch's batches into one transaction
// (the kit's Gathering) and writes their ids to processed_events and its next events to the
// outbox in one statement: what every consuming service does per batch, without its domain's
// reads and writes, HTTP, the gateway, mail or tracing. Five records and the same databases
// per order as the real saga, so the WAL senders and connectors do the same work.
//
//   node tests/bench/floor.ts     (environment: BENCH_FLOOR_RATES=25,50,...,400 BENCH_SECONDS BENCH_WARMUP_SECONDS BENCH_RESULTS_DIR)
//
// Writes tests/bench/results/floor.md.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, KafkaMessage } from 'kafkajs';
import {
  connectDatabase,
  createKafka,
  Gathering,
  loadServiceConfig,
  outboxClause,
  outboxInsert,
  services,
  type DatabaseName,
  type OutboxRow,
  type Sql,
} from '@shop/kit';
import { until } from '../harness/client.ts';
import { repositoryRoot, stackEndpoints } from '../harness/stack.ts';
import { untilQuiet } from './quiet.ts';
import { componentSampler } from './resources.ts';

const settings = {
  rates: (process.env['BENCH_FLOOR_RATES'] ?? '25,50,100,200,300,400').split(',').map(Number),
  warmupMs: Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5) * 1000,
  durationMs: Number(process.env['BENCH_SECONDS'] ?? 20) * 1000,
  drainTimeoutMs: 60_000,
  /** About an order-placed record's Avro value. */
  payloadBytes: 150,
};
// kafkajs's own complaints (a new topic's leader not yet known) are retried by it; a failure that
// matters throws.
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
// BENCH_RESULTS_DIR: elsewhere than the checked-in results.
const resultsDirectory = process.env['BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('./results', import.meta.url));
const log = (line: string) => console.log(`[floor] ${line}`);

interface Hop {
  database: DatabaseName;
  consumes: string[];
  /** The events each consumed one causes, by its topic. */
  emits: Record<string, string[]>;
  /** Topics read but needless here, skipped before any transaction (order-svc's stock-only product-updates). */
  skips?: string[];
}

const hops: Hop[] = [
  { database: 'payments', consumes: ['floor-placed'], emits: { 'floor-placed': ['floor-paid'] } },
  { database: 'products', consumes: ['floor-placed'], emits: { 'floor-placed': ['floor-reserved', 'floor-stock'] } },
  {
    database: 'orders',
    consumes: ['floor-paid', 'floor-reserved', 'floor-stock'],
    emits: { 'floor-paid': ['floor-confirmed'] },
    skips: ['floor-stock'],
  },
  { database: 'notifications', consumes: ['floor-confirmed'], emits: {} },
];
const topics = ['floor-placed', 'floor-paid', 'floor-reserved', 'floor-stock', 'floor-confirmed'];

const serviceOf = (database: DatabaseName) => services.find((service) => service.database === database)!;
const connect = (database: DatabaseName, max: number): Sql => connectDatabase({ ...loadServiceConfig(serviceOf(database)).database, max });

interface Part {
  topic: string;
  messages: KafkaMessage[];
}

/**
 * When each order's floor-placed reached the observer (its CDC lag, from the moment its insert
 * was acknowledged), and when its floor-confirmed reached the last hop, by this process's clock.
 */
const placedSeen = new Map<string, number>();
const confirmedSeen = new Map<string, number>();

async function startHop(kafka: ReturnType<typeof createKafka>, hop: Hop): Promise<{ consumer: Consumer; sql: Sql }> {
  const { consumer: consumerSettings } = loadServiceConfig(serviceOf(hop.database));
  const sql = connect(hop.database, 2);
  const apply = async (parts: Part[]) => {
    const events = parts
      .filter((part) => !hop.skips?.includes(part.topic))
      .flatMap((part) => part.messages.map((message) => ({ topic: part.topic, message })));
    if (events.length === 0) return;
    const ids = events.map(({ topic, message }) => ({ consumer: 'bench-floor', eventId: message.headers!['id']!.toString(), topic }));
    const next: OutboxRow[] = events.flatMap(({ topic, message }) =>
      (hop.emits[topic] ?? []).map((type) => ({
        id: randomUUID(),
        aggregatetype: 'floor',
        aggregateid: message.key!.toString(),
        type,
        payload: message.value!,
        traceparent: null,
      })),
    );
    await sql.begin(async (tx) => {
      await tx`with recorded as (insert into processed_events ${tx(ids, 'consumer', 'eventId', 'topic')} on conflict do nothing)
        ${outboxClause(tx, next)} select 1`;
    });
  };
  const gathering = new Gathering<Part>({
    keysOf: () => [],
    applyTogether: (parts) =>
      apply(parts).then(
        () => true,
        () => false,
      ),
  });
  const consumer = kafka.consumer({
    groupId: `bench-floor-${hop.database}`,
    ...(consumerSettings.fetchMinBytes === undefined ? {} : { minBytes: consumerSettings.fetchMinBytes }),
    ...(consumerSettings.fetchMaxWaitMs === undefined ? {} : { maxWaitTimeInMs: consumerSettings.fetchMaxWaitMs }),
    fillWaitInMs: consumerSettings.fetchFillWaitMs ?? 0,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: hop.consumes, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    partitionsConsumedConcurrently: consumerSettings.partitionsConsumedConcurrently,
    ...(consumerSettings.commitIntervalMs > 0 ? { autoCommitInterval: consumerSettings.commitIntervalMs } : {}),
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (batch.topic === 'floor-confirmed') {
        const now = Date.now();
        for (const message of batch.messages) confirmedSeen.set(message.key!.toString(), now);
      }
      const part = { topic: batch.topic, messages: batch.messages };
      const outcome = await gathering.join(part);
      if (outcome !== 'applied') await apply([part]);
      payload.resolveOffset(batch.messages.at(-1)!.offset);
    },
  });
  await joined;
  return { consumer, sql };
}

/**
 * Reads floor-placed as the bench's observer reads order-placed (run.ts): a group of its own,
 * no commits, no fill wait, so that the CDC lag is the pipeline's and not a hop's fetch.
 */
async function observePlaced(kafka: ReturnType<typeof createKafka>): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `bench-floor-observer-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['floor-placed'], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) placedSeen.set(message.key!.toString(), now);
    },
  });
  await joined;
  return consumer;
}

function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Places `rate` orders a second for the step, each due at its time, none waiting for another;
 * returns when each was due and when its insert was acknowledged, in ms from the step's start.
 */
async function placeOrders(orders: Sql, rate: number, milliseconds: number): Promise<Map<string, { due: number; at: number }>> {
  const written = new Map<string, { due: number; at: number }>();
  const count = Math.round((rate * milliseconds) / 1000);
  const start = performance.now();
  const inserts: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const order = randomUUID();
    const row: OutboxRow = {
      id: randomUUID(),
      aggregatetype: 'floor',
      aggregateid: order,
      type: 'floor-placed',
      payload: randomBytes(settings.payloadBytes),
      traceparent: null,
    };
    const due = (i * 1000) / rate;
    inserts.push(outboxInsert(orders, row).then(() => void written.set(order, { due, at: Date.now() })));
  }
  await Promise.all(inserts);
  return written;
}

async function main(): Promise<void> {
  const endpoints = stackEndpoints();
  const kafka = createKafka(endpoints.kafkaBrokers, 'bench-floor', quiet);
  const admin = kafka.admin();
  await admin.connect();
  const [placed] = (await admin.fetchTopicMetadata({ topics: ['order-placed'] })).topics;
  const partitions = placed!.partitions.length;
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((topic) => topics.includes(topic)) });
  await sleep(2000);
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    waitForLeaders: true,
  });
  const started = await Promise.all(hops.map((hop) => startHop(kafka, hop)));
  const observer = await observePlaced(kafka);
  const orders = connect('orders', 10);
  log(`${hops.length} hops on ${topics.length} topics of ${partitions} partitions; rates ${settings.rates.join(', ')} orders/s`);

  // The idle window measures what the stack burns anyway, so any backlog is worked off first.
  const notifications = connect('notifications', 1);
  await untilQuiet(admin, notifications, log);
  await notifications.end();
  const idleSampler = componentSampler();
  const idleCpu = process.cpuUsage();
  idleSampler.start();
  await sleep(settings.durationMs);
  const idle = await idleSampler.stop();
  const idleWalSenders = idleSampler.kinds?.['WAL senders'] ?? 0;
  const idleSelf = cpuPercentSince(idleCpu, settings.durationMs);

  const rows: string[] = [];
  for (const rate of settings.rates) {
    const sampler = componentSampler();
    const samplerStart = setTimeout(() => sampler.start(), settings.warmupMs);
    let selfAtStart: NodeJS.CpuUsage | undefined;
    const selfStart = setTimeout(() => (selfAtStart = process.cpuUsage()), settings.warmupMs);
    const written = await placeOrders(orders, rate, settings.warmupMs + settings.durationMs);
    const resources = await sampler.stop();
    clearTimeout(samplerStart);
    clearTimeout(selfStart);
    const self = selfAtStart ? cpuPercentSince(selfAtStart, settings.durationMs) : 0;
    const measured = [...written].filter(([, { due }]) => due >= settings.warmupMs);
    await until(
      `${rate}/s: every order through`,
      async () => [...written.keys()].filter((order) => confirmedSeen.has(order)).length,
      (n) => n === written.size,
      settings.drainTimeoutMs,
    ).catch(() => log(`${rate}/s: not every order came through in ${settings.drainTimeoutMs / 1000} s`));
    const since = (seen: Map<string, number>) => measured.flatMap(([order, { at }]) => (seen.has(order) ? [seen.get(order)! - at] : []));
    const [latencies, cdcLags] = [since(confirmedSeen), since(placedSeen)];
    const perOrder = (percent: number, idlePercent: number) =>
      ((Math.max(0, percent - idlePercent) / 100) * settings.durationMs) / Math.max(1, measured.length);
    const by = Object.fromEntries(
      ['postgres', 'kafka', 'connect'].map((name) => [
        name,
        perOrder(resources.get(name)?.cpuPercent ?? 0, idle.get(name)?.cpuPercent ?? 0),
      ]),
    );
    const walSenders = perOrder(sampler.kinds?.['WAL senders'] ?? 0, idleWalSenders);
    const services = perOrder(self, idleSelf);
    const total = Object.values(by).reduce((sum, value) => sum + value, 0) + services;
    const cells = [rate, measured.length, total, by['postgres']!, walSenders, by['kafka']!, by['connect']!, services].map((value, i) =>
      i < 2 ? String(value) : value.toFixed(1),
    );
    const percentiles = [latencies, cdcLags].flatMap((values) => [percentile(values, 50) ?? '–', percentile(values, 99) ?? '–']);
    const line = `| ${[...cells, ...percentiles].join(' | ')} |`;
    log(line);
    rows.push(line);
  }
  const report = [
    `# The pipeline's floor: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repositoryRoot, encoding: 'utf8' }).trim()}`,
    '',
    `A null saga of the real one's shape (five records, the same databases, connectors and consumer settings; no domain work, HTTP, gateway, mail or tracing) beside the idle stack; ${settings.warmupMs / 1000} s warm-up, then ${settings.durationMs / 1000} s measured per rate. CPU of PostgreSQL, Kafka, Connect and the process that runs the hops, less their idle CPU, per order. placed → confirmed: from the \`floor-placed\` insert's acknowledgement to \`floor-confirmed\` reaching the last hop; CDC lag: to \`floor-placed\` reaching an observer that reads it as the bench's observer reads \`order-placed\` (no fill wait, no commits). Method: [../README.md](../README.md#the-pipelines-floor-what-the-saga-costs-with-no-service-work).`,
    '',
    '| orders/s | measured | CPU ms per order above idle | postgres | of which WAL senders | kafka | connect | the hops (this process) | placed → confirmed p50 ms | p99 ms | CDC lag p50 ms | p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  mkdirSync(resultsDirectory, { recursive: true });
  writeFileSync(`${resultsDirectory}/floor.md`, report);
  log(`written to ${resultsDirectory}/floor.md`);
  await observer.disconnect();
  for (const { consumer, sql } of started) {
    await consumer.disconnect();
    await sql.end();
  }
  await orders.end();
  await admin.deleteTopics({ topics });
  await admin.disconnect();
}

function cpuPercentSince(start: NodeJS.CpuUsage, milliseconds: number): number {
  const { user, system } = process.cpuUsage(start);
  return ((user + system) / 1000 / milliseconds) * 100;
}

await main();
