// `make bench-floor`: what the pipeline itself costs per order, with none of the services' own
// work: the floor under the stack's CPU per order (issue 16). A null saga of the real one's
// shape runs beside the idle services, through the same PostgreSQL, connectors, broker and
// kafkajs settings, on topics of its own (floor-<run>-*, deleted once every record is in):
//
//   placed     one outbox insert per order in `orders`, a statement of its own (POST /orders)
//   paid       from `payments`, one per placed                                      (payment-svc)
//   reserved   from `products`, with stock, one each per placed                     (product-svc)
//   confirmed  from `orders` once an order's paid and reserved have both come;
//              stock skipped before any transaction                                  (order-svc)
//   (end)      `notifications` records confirmed                                     (notification-svc)
//
// Each hop consumes with the kit's settings (fill wait, commit interval, partitions at once;
// a fetch's batch is taken whole, which below 100 records per partition is what
// CONSUMER_BATCH_SIZE allows), gathers a fetch's batches into one transaction (the kit's
// Gathering) and writes their ids to processed_events and its next events to the outbox in
// one statement: what every consuming service does per batch, without its domain's reads and
// writes, HTTP, the gateway, mail or tracing. Where order-svc reads the order to know whether
// both reports are in, the orders hop remembers them in memory.
//
// The hops run in a child process, whose CPU is measured as a component; this process places
// the orders and observes placed and confirmed as the bench's observer does (no fill wait, no
// commits), and like the bench's load generator is not counted.
//
//   node tests/bench/floor.ts     (environment: BENCH_FLOOR_RATES=25,50,...,400 BENCH_FLOOR_PARTITIONS (the saga's)
//                                  BENCH_SECONDS BENCH_WARMUP_SECONDS BENCH_RESULTS_DIR)
//
// Writes tests/bench/results/floor.md.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import {
  createKafka,
  kafkaConsumerConfig,
  kafkaRunConfig,
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
import { connectServiceDatabase, stackEndpoints, stackKind } from '../harness/stack.ts';
import { settle } from './quiet.ts';
import { measuredCommit, percentile, stepTiming } from './steps.ts';
import { componentRoots, postgresProcessKind, ResourceSampler } from './resources.ts';

const settings = {
  ...stepTiming('BENCH_FLOOR_RATES'),
  drainTimeoutMs: 60_000,
  /** How long the hops and the observer may take to join their groups. */
  startTimeoutMs: 120_000,
  /** How long the records still to come are waited for before the run's topics are deleted. */
  settleTimeoutMs: 180_000,
  /** About an order-placed record's Avro value. */
  payloadBytes: 150,
};
/** Orders whose outbox row committed, in all steps: each causes one record in each of the run's topics. */
let placedInAll = 0;
// BENCH_RESULTS_DIR: elsewhere than the checked-in results.
const resultsDirectory = process.env['BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('./results', import.meta.url));
// kafkajs's own complaints (a new topic's leader not yet known) are retried by it; a failure
// that matters throws.
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const log = (line: string) => console.error(`[floor] ${line}`);

type Step = 'placed' | 'paid' | 'reserved' | 'stock' | 'confirmed';
const steps: Step[] = ['placed', 'paid', 'reserved', 'stock', 'confirmed'];
/** The run's topic of each step: the outbox's `type`, which Debezium's EventRouter routes by. */
const topicsOf = (run: string) => Object.fromEntries(steps.map((step) => [step, `floor-${run}-${step}`])) as Record<Step, string>;

interface Hop {
  database: DatabaseName;
  consumes: Step[];
  /** The events each consumed one causes, by its step. */
  emits: Partial<Record<Step, Step[]>>;
  /** Read but needless here, skipped before any transaction (order-svc's stock-only product-updates). */
  skips?: Step[];
  /** Emits `confirmed` for an order once both of these have come (order-svc's saga). */
  joins?: [Step, Step];
}

const hops: Hop[] = [
  { database: 'payments', consumes: ['placed'], emits: { placed: ['paid'] } },
  { database: 'products', consumes: ['placed'], emits: { placed: ['reserved', 'stock'] } },
  { database: 'orders', consumes: ['paid', 'reserved', 'stock'], emits: {}, skips: ['stock'], joins: ['paid', 'reserved'] },
  { database: 'notifications', consumes: ['confirmed'], emits: {} },
];

const serviceOf = (database: DatabaseName) => services.find((service) => service.database === database)!;

interface Part {
  step: Step;
  messages: KafkaMessage[];
}

/** In the hops' process: their consumers' requests to the broker so far, by API, as the services count theirs (consumer_kafka_requests_total). */
const requestsByApi = new Map<string, number>();

async function startHop(kafka: Kafka, run: string, hop: Hop): Promise<{ consumer: Consumer; sql: Sql }> {
  const topics = topicsOf(run);
  const stepOf = new Map(steps.map((step) => [topics[step], step]));
  const { consumer: consumerSettings } = loadServiceConfig(serviceOf(hop.database));
  const sql = connectServiceDatabase(hop.database, 2);
  /** Which of the two joined reports each order not yet confirmed has had, and the orders confirmed. */
  const reportsOf = new Map<string, Set<Step>>();
  const confirmed = new Set<string>();
  const outboxRow = (step: Step, message: KafkaMessage): OutboxRow => ({
    id: randomUUID(),
    aggregatetype: 'floor',
    aggregateid: message.key!.toString(),
    type: topics[step],
    payload: message.value!,
    traceparent: null,
  });
  const apply = async (parts: Part[]) => {
    const events = parts
      .filter((part) => !hop.skips?.includes(part.step))
      .flatMap((part) => part.messages.map((message) => ({ step: part.step, message })));
    if (events.length === 0) return;
    const ids = events.map(({ step, message }) => ({
      consumer: 'bench-floor',
      eventId: message.headers!['id']!.toString(),
      topic: topics[step],
    }));
    const next: OutboxRow[] = events.flatMap(({ step, message }) => (hop.emits[step] ?? []).map((emitted) => outboxRow(emitted, message)));
    // Decided before the first await, so that two transactions under way at once (the next
    // gathering opens while one runs) each see the other's reports. By kind of report, so that
    // a report delivered twice confirms nothing; once per order. Nothing undoes it: a failed
    // transaction ends the hops, and with them the run.
    if (hop.joins) {
      for (const { step, message } of events) {
        const order = message.key!.toString();
        if (confirmed.has(order)) continue;
        const reports = reportsOf.get(order) ?? new Set<Step>();
        reports.add(step);
        if (hop.joins.every((joined) => reports.has(joined))) {
          reportsOf.delete(order);
          confirmed.add(order);
          next.push(outboxRow('confirmed', message));
        } else reportsOf.set(order, reports);
      }
    }
    await sql
      .begin(async (tx) => {
        await tx`with recorded as (insert into processed_events ${tx(ids, 'consumer', 'eventId', 'topic')} on conflict do nothing)
          ${outboxClause(tx, next)} select 1`;
      })
      .catch((error: unknown) => {
        log(`the ${hop.database} hop failed: ${(error as Error).message}`);
        process.exit(1);
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
  const consumer = kafka.consumer(kafkaConsumerConfig(`bench-floor-${run}-${hop.database}`, consumerSettings));
  consumer.on(consumer.events.REQUEST, ({ payload }) => requestsByApi.set(payload.apiName, (requestsByApi.get(payload.apiName) ?? 0) + 1));
  await consumer.connect();
  await consumer.subscribe({ topics: hop.consumes.map((step) => topics[step]), fromBeginning: true });
  const joinedGroup = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    ...kafkaRunConfig(consumerSettings),
    eachBatch: async (payload) => {
      const { batch } = payload;
      const part = { step: stepOf.get(batch.topic)!, messages: batch.messages };
      const outcome = await gathering.join(part);
      // The gathering's joint attempt failed, or nothing came with this part: on its own
      // (a failure here throws, and kafkajs fetches the batch again).
      if (outcome !== 'applied') await apply([part]);
      payload.resolveOffset(batch.messages.at(-1)!.offset);
    },
  });
  await joinedGroup;
  return { consumer, sql };
}

/**
 * The child process: runs the hops until SIGTERM; says `ready` on stdout once every hop has
 * joined its group, and answers each message from its parent with its requests so far.
 */
async function runHops(run: string): Promise<void> {
  const kafka = createKafka(stackEndpoints().kafkaBrokers, 'bench-floor-hops', quiet);
  const started = await Promise.all(hops.map((hop) => startHop(kafka, run, hop)));
  process.on('message', () => process.send!(Object.fromEntries(requestsByApi)));
  // The channel would keep this process alive once its hops have stopped.
  process.channel?.unref();
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  for (const { consumer, sql } of started) {
    await consumer.disconnect();
    await sql.end();
  }
}

async function spawnHops(
  run: string,
): Promise<{ pid: number; requests: () => Promise<Record<string, number>>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'hops', run], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  // The channel would keep this process alive after main has ended.
  child.channel?.unref();
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  void exited.then((code) => {
    if (stopping) return;
    // The run's figures would be the stack's idle ones: stopped, the run's topics kept.
    log(`the hops ended (exit code ${code}); the run is stopped`);
    process.exit(1);
  });
  // However this process ends, the hops end with it rather than consume on unseen.
  process.once('exit', () => child.kill('SIGTERM'));
  const lines = createInterface({ input: child.stdout! });
  // A child that ends before it is ready ends this process (above).
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    sleep(settings.startTimeoutMs).then(() => 'nothing'),
  ]);
  if (first !== 'ready') throw new Error(`the hops said ${first}, not ready, within ${settings.startTimeoutMs / 1000} s`);
  return {
    pid: child.pid!,
    requests: async () => {
      const answer = new Promise<Record<string, number>>((resolve) =>
        child.once('message', (counts) => resolve(counts as Record<string, number>)),
      );
      child.send('requests');
      return answer;
    },
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * When each order's placed and confirmed reached this process, read as the bench's observer
 * reads order-placed and order-confirmed (run.ts): a group of its own, no commits, no fill wait.
 */
async function observe(kafka: Kafka, topics: Record<Step, string>) {
  const seen = { placed: new Map<string, number>(), confirmed: new Map<string, number>() };
  const consumer = kafka.consumer({ groupId: `bench-floor-observer-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.placed, topics.confirmed], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      const map = batch.topic === topics.placed ? seen.placed : seen.confirmed;
      // The first arrival: a rebalance makes this group, which commits nothing, read them again.
      for (const message of batch.messages) if (!map.has(message.key!.toString())) map.set(message.key!.toString(), now);
    },
  });
  await Promise.race([
    joined,
    sleep(settings.startTimeoutMs).then(() => {
      throw new Error(`the observer did not join its group within ${settings.startTimeoutMs / 1000} s`);
    }),
  ]);
  return { seen, stop: () => consumer.disconnect() };
}

interface Placed {
  /** When it was due, in ms from the step's start. */
  due: number;
  /**
   * Its outbox row's created_at: its transaction's start, which is the one INSERT, so it is the
   * commit to within the statement (the bench times an order's CDC lag from the commit).
   */
  createdAt: number;
}

/** Places `rate` orders a second for the step, each due at its time, none waiting for another. */
async function placeOrders(orders: Sql, topic: string, rate: number, milliseconds: number): Promise<Map<string, Placed>> {
  const placed = new Map<string, Placed>();
  const count = Math.round((rate * milliseconds) / 1000);
  const start = performance.now();
  const inserts: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = (i * 1000) / rate;
    const wait = start + due - performance.now();
    if (wait > 0) await sleep(wait);
    const order = randomUUID();
    const row: OutboxRow = {
      id: randomUUID(),
      aggregatetype: 'floor',
      aggregateid: order,
      type: topic,
      payload: randomBytes(settings.payloadBytes),
      traceparent: null,
    };
    inserts.push(
      orders<{ createdAt: Date }[]>`${outboxInsert(orders, row)} returning created_at`.then(([written]) => {
        placed.set(order, { due, createdAt: written!.createdAt.getTime() });
        placedInAll++;
      }),
    );
  }
  await Promise.all(inserts);
  return placed;
}

async function main(): Promise<void> {
  if (stackKind() !== 'native') throw new Error('make bench-floor reads the processes of the native stack: run it with STACK=native');
  const run = Date.now().toString(36);
  const topics = topicsOf(run);
  const kafka = createKafka(stackEndpoints().kafkaBrokers, 'bench-floor', quiet);
  const admin = kafka.admin();
  await admin.connect();
  const [orderPlaced] = (await admin.fetchTopicMetadata({ topics: ['order-placed'] })).topics;
  const sagaPartitions = orderPlaced!.partitions.length;
  // BENCH_FLOOR_PARTITIONS: what a fetch of fewer (or more) partitions costs the broker.
  const requestedPartitions = process.env['BENCH_FLOOR_PARTITIONS'];
  const partitions = requestedPartitions ? Number(requestedPartitions) : sagaPartitions;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`BENCH_FLOOR_PARTITIONS must be a whole number above 0, not "${requestedPartitions}"`);
  }
  // A variant's report says which, so that it is not taken for the floor as the stack has it.
  const variant = `topics of ${partitions} partitions (the saga's have ${sagaPartitions}), the hops' fill wait ${loadServiceConfig(serviceOf('orders')).consumer.fetchFillWaitMs ?? 0} ms`;
  await admin.createTopics({
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    waitForLeaders: true,
  });
  const orders = connectServiceDatabase('orders', 10);
  const rows: string[] = [];
  const hopsProcess = await spawnHops(run);
  let observer: Awaited<ReturnType<typeof observe>> | undefined;
  try {
    observer = await observe(kafka, topics);
    const { seen } = observer;
    log(
      `${hops.length} hops on ${steps.length} topics of ${partitions} partitions (floor-${run}-*); rates ${settings.rates.join(', ')} orders/s`,
    );
    const sampler = () =>
      new ResourceSampler(new Map([...componentRoots(), ['hops', hopsProcess.pid]]), {
        component: 'postgres',
        kindOf: postgresProcessKind,
      });
    // The idle window measures what the stack burns anyway, so any backlog, and autovacuum's
    // work on an earlier run's rows, is done first.
    const notifications = connectServiceDatabase('notifications', 1);
    await settle(admin, notifications, log);
    await notifications.end();
    const idleSampler = sampler();
    idleSampler.start();
    await sleep(settings.durationMs);
    const idle = await idleSampler.stop();
    const idleWalSenders = idleSampler.kinds?.['WAL senders'] ?? 0;

    for (const rate of settings.rates) {
      const stepSampler = sampler();
      const requestsBefore = await hopsProcess.requests();
      const samplerStart = setTimeout(() => stepSampler.start(), settings.warmupMs);
      const placed = await placeOrders(orders, topics.placed, rate, settings.warmupMs + settings.durationMs);
      const scheduleEnd = Date.now();
      const resources = await stepSampler.stop();
      clearTimeout(samplerStart);
      const measured = [...placed].filter(([, { due }]) => due >= settings.warmupMs);
      const confirmedCount = () => measured.filter(([order]) => seen.confirmed.has(order)).length;
      const confirmed = await until(
        `${rate}/s: every order confirmed`,
        async () => confirmedCount(),
        (n) => n === measured.length,
        settings.drainTimeoutMs,
      ).catch(confirmedCount);
      // As the bench counts work: from the step's start, divided by every order it placed (warm-up included).
      const requestsAfter = await hopsProcess.requests();
      const requestsPerOrder = (apis: (api: string) => boolean) =>
        (
          Object.entries(requestsAfter)
            .filter(([api]) => apis(api))
            .reduce((sum, [api, count]) => sum + count - (requestsBefore[api] ?? 0), 0) / placed.size
        ).toFixed(1);
      const drainMs = Math.max(scheduleEnd, ...measured.map(([order]) => seen.confirmed.get(order) ?? 0)) - scheduleEnd;
      const since = (seen: Map<string, number>) =>
        measured.flatMap(([order, { createdAt }]) => (seen.has(order) ? [seen.get(order)! - createdAt] : []));
      const perOrder = (percent: number, idlePercent: number) =>
        ((Math.max(0, percent - idlePercent) / 100) * settings.durationMs) / confirmed;
      const by = Object.fromEntries(
        ['postgres', 'kafka', 'connect', 'hops'].map((name) => [
          name,
          perOrder(resources.get(name)?.cpuPercent ?? 0, idle.get(name)?.cpuPercent ?? 0),
        ]),
      );
      const walSenders = perOrder(stepSampler.kinds?.['WAL senders'] ?? 0, idleWalSenders);
      const total = Object.values(by).reduce((sum, value) => sum + value, 0);
      // None confirmed: no CPU per order, as report.ts has it.
      const cpu = [total, by['postgres']!, walSenders, by['kafka']!, by['connect']!, by['hops']!].map((value) =>
        confirmed > 0 ? value.toFixed(1) : '–',
      );
      const latencies = [since(seen.confirmed), since(seen.placed)].flatMap((values) => [
        percentile(values, 50) ?? '–',
        percentile(values, 99) ?? '–',
      ]);
      const requests = [requestsPerOrder((api) => api === 'Fetch'), requestsPerOrder((api) => api !== 'Fetch')];
      const line = `| ${[rate, `${confirmed}/${measured.length}`, ...cpu, ...latencies, `${(drainMs / 1000).toFixed(1)} s`, ...requests].join(' | ')} |`;
      log(line);
      rows.push(line);
    }
  } finally {
    // The hops go on until every record is in: an order still on its way needs them.
    await deleteOnceIn(admin, topics);
    await hopsProcess.stop();
    await observer?.stop();
    await orders.end();
    await admin.disconnect();
  }
  const commit = measuredCommit();
  const report = [
    `# The pipeline's floor: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}`,
    '',
    `A null saga of the real one's shape (five records, the same databases and connectors, the consumer settings the services read from the environment; ${variant}; no domain work, HTTP, gateway, mail or tracing) beside the idle stack; ${settings.warmupMs / 1000} s warm-up, then ${settings.durationMs / 1000} s measured per rate. CPU of PostgreSQL, Kafka, Connect and the process that runs the hops, less their idle CPU, per confirmed order. Times from each order's outbox row's \`created_at\` (its transaction's start; the transaction is the one INSERT, so within the statement of its commit, from which the bench times its CDC lag) to its \`confirmed\` and \`placed\` records reaching an observer that reads them as the bench's reads \`order-confirmed\` and \`order-placed\` (no fill wait, no commits); drain from the end of the step's schedule; the hops' requests to the broker (their fetches, and all the others: offset commits, heartbeats, metadata) from the step's start until its orders are confirmed, per order placed, as the bench counts the services' consumers'. Method: [../README.md](../README.md#the-pipelines-floor-what-the-saga-costs-with-no-service-work).`,
    '',
    '| orders/s | confirmed | CPU ms per order above idle | postgres | of which WAL senders | kafka | connect | the hops | placed → confirmed p50 ms | p99 ms | CDC lag p50 ms | p99 ms | drain | fetches per order | other requests |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  mkdirSync(resultsDirectory, { recursive: true });
  writeFileSync(`${resultsDirectory}/floor.md`, report);
  log(`written to ${resultsDirectory}/floor.md`);
}

/**
 * Deletes the run's topics once every record the orders placed cause is in them (one per order
 * in each). Not before: with
 * topics not created on demand, a connector with a row still to publish would wait for a topic
 * that is gone, and the real saga's events of that database behind it.
 */
async function deleteOnceIn(admin: Admin, topics: Record<Step, string>): Promise<void> {
  // Each topic's own count: a record written twice in one cannot stand for one missing in another.
  const fewestRecords = async () => {
    let fewest = Infinity;
    for (const topic of Object.values(topics)) {
      let records = 0;
      for (const { high } of await admin.fetchTopicOffsets(topic)) records += Number(high);
      fewest = Math.min(fewest, records);
    }
    return fewest;
  };
  try {
    await until('every floor record to be in Kafka', fewestRecords, (n) => n >= placedInAll, settings.settleTimeoutMs);
    await admin.deleteTopics({ topics: Object.values(topics) });
  } catch (error) {
    log(
      `${(error as Error).message}; the topics floor-${Object.values(topics)[0]!.split('-')[1]}-* are kept: delete them once every record is in`,
    );
  }
}

if (process.argv[2] === 'hops') await runHops(process.argv[3]!);
else await main();
