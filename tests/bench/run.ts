// `make bench`: offers POST /orders at fixed rates (an open-loop generator in its own process),
// measures what the system achieves at each rate, then the limit the database sets (pgbench
// running the same placement transaction), and writes tests/bench/results/. See
// tests/bench/README.md for the method and how to read the report.
//
//   node tests/bench/run.ts     (environment: BENCH_RATES=25,50,... BENCH_SECONDS BENCH_WARMUP_SECONDS BENCH_PEAK_SECONDS BENCH_WARMUP_PEAK BENCH_LABEL BENCH_ORDER_URLS BENCH_RESULTS_DIR)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { eventCatalogue, serviceNamed, services, serviceUrl, type Sql } from '@shop/kit';
import { adminToken, createProduct, registerCustomer, until, type Customer } from '../harness/client.ts';
import { connectAsSuperuser, connectServiceDatabase, repositoryRoot, stackEndpoints } from '../harness/stack.ts';
import type { GeneratorPlan, GeneratorResult, RequestSample } from './load-generator.ts';
import { runPgbench } from './pgbench.ts';
import { settle, untilQuiet } from './quiet.ts';
import { measuredCommit, percentile, stepTiming } from './steps.ts';
import {
  cpuMsPerOrder,
  ms,
  renderReport,
  waitedPerMsRun,
  wholeStack,
  type BenchResults,
  type PostSaturation,
  type StepResult,
} from './report.ts';
import { componentSampler, type ResourceSampler } from './resources.ts';
import { latencyChart } from './chart.ts';

const settings = {
  ...stepTiming('BENCH_RATES'),
  customers: 60,
  products: 8,
  /** order-svc's pool size: pgbench runs with as many clients. */
  poolSize: Number(process.env['DB_POOL_MAX'] ?? 10),
  pgbenchSeconds: 20,
  /** After a step, how long confirmations are waited for before the rest count as missing. */
  drainTimeoutMs: 60_000,
  /** The closed-loop POST /orders peak before the rates (0: none): as many clients as pgbench's, back to back. */
  peakSeconds: Number(process.env['BENCH_PEAK_SECONDS'] ?? 10),
  /** The same burst once before, unmeasured (0: not), so that the measured one finds the stack warm. */
  warmupPeak: process.env['BENCH_WARMUP_PEAK'] !== '0',
  label: process.env['BENCH_LABEL'] ?? '',
  /** Where POST /orders goes, in turn: order-svc, and its further instances when scale-out is measured. */
  orderServiceUrls: (process.env['BENCH_ORDER_URLS'] ?? '').split(',').filter(Boolean),
};

const endpoints = stackEndpoints();
if (settings.orderServiceUrls.length === 0) settings.orderServiceUrls.push(endpoints.orderService);
// BENCH_RESULTS_DIR: elsewhere than the checked-in results (alternate.ts's runs).
const resultsDirectory = process.env['BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('./results', import.meta.url));
const log = (line: string) => console.log(`[bench] ${line}`);

/** Each kind's CPU, % of one core, to a tenth. */
const roundedKinds = (kinds: Record<string, number>) =>
  Object.fromEntries(Object.entries(kinds).map(([kind, percent]) => [kind, Math.round(percent * 10) / 10]));

/**
 * When each order was first seen on order-placed and order-confirmed, by this process's clock,
 * and the id of its order-confirmed event (the id of the mail it causes).
 */
async function observeOrders(kafka: Kafka) {
  const placedSeen = new Map<string, number>();
  const confirmedSeen = new Map<string, number>();
  const confirmedEventIds = new Map<string, string>();
  const consumer = kafka.consumer({ groupId: `bench-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['order-placed', 'order-confirmed'], fromBeginning: false });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    // It reads from the end with a group of its own each run: committed offsets would serve
    // no one, and each commit is a request to the broker whose CPU the run charges to the orders.
    autoCommit: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      const seen = batch.topic === 'order-placed' ? placedSeen : confirmedSeen;
      for (const message of batch.messages) {
        const key = message.key?.toString();
        if (key && !seen.has(key)) seen.set(key, now);
        const eventId = message.headers?.['id']?.toString();
        if (key && eventId && seen === confirmedSeen) confirmedEventIds.set(key, eventId);
      }
    },
  });
  await joined;
  return { placedSeen, confirmedSeen, confirmedEventIds, stop: () => consumer.disconnect() };
}

interface WorkCounters {
  transactions: Map<string, number>;
  /** Statements with BEGIN and COMMIT; empty when the cluster was started without pg_stat_statements (before it was configured). */
  roundTrips: Map<string, number>;
  records: Map<string, number>;
  /** Records in `__consumer_offsets`: one per partition of each offset commit. */
  offsetCommits: Map<string, number>;
  /** The services' consumers' requests to the broker, by API (Fetch, OffsetCommit, Heartbeat, ...). */
  consumerRequests: Map<string, number>;
}

/** Every consuming service's `consumer_kafka_requests_total`, summed by API. */
async function consumerRequests(): Promise<Map<string, number>> {
  const byApi = new Map<string, number>();
  for (const service of services.filter((s) => s.consumes.length > 0)) {
    const text = await (await fetch(`${serviceUrl(service.name)}/metrics`)).text();
    for (const [, api, value] of text.matchAll(/^consumer_kafka_requests_total\{[^}]*api="([^"]+)"[^}]*\} (\S+)$/gm)) {
      byApi.set(api!, (byApi.get(api!) ?? 0) + Number(value));
    }
  }
  return byApi;
}

/** Transactions committed and round trips (statements) in each service's database, and records in each topic, so far. */
async function workCounters(superuser: Sql, kafkaAdmin: Admin): Promise<WorkCounters> {
  const databases = services.map((service) => service.database);
  const rows = await superuser<{ datname: string; xactCommit: string }[]>`
    select datname, xact_commit from pg_stat_database where datname = any(${databases})`;
  // pg_stat_statements counts each BEGIN but not postgres.js's COMMIT (a prepared utility
  // statement): a transaction block's two round trips are counted as twice its BEGINs.
  const statements = await superuser<{ datname: string; roundTrips: string }[]>`
    select d.datname,
           sum(s.calls) filter (where s.query !~* '^\\s*(begin|commit|rollback)')
             + 2 * coalesce(sum(s.calls) filter (where s.query ~* '^\\s*begin'), 0) as round_trips
    from pg_stat_statements s join pg_database d on d.oid = s.dbid
    where d.datname = any(${databases}) group by d.datname`.catch(() => []);
  const records = new Map<string, number>();
  for (const topic of Object.keys(eventCatalogue)) {
    const offsets = await kafkaAdmin.fetchTopicOffsets(topic);
    records.set(
      topic,
      offsets.reduce((sum, { high }) => sum + Number(high), 0),
    );
  }
  const commits = await kafkaAdmin.fetchTopicOffsets('__consumer_offsets');
  return {
    transactions: new Map(rows.map((row) => [row.datname, Number(row.xactCommit)])),
    roundTrips: new Map(statements.map((row) => [row.datname, Number(row.roundTrips)])),
    records,
    offsetCommits: new Map([['__consumer_offsets', commits.reduce((sum, { high }) => sum + Number(high), 0)]]),
    consumerRequests: await consumerRequests(),
  };
}

function perOrder(before: WorkCounters, after: WorkCounters, orderCount: number) {
  const divide = (a: Map<string, number>, b: Map<string, number>) =>
    Object.fromEntries([...b].map(([name, value]) => [name, Math.round((100 * (value - (a.get(name) ?? 0))) / orderCount) / 100]));
  return {
    transactions: divide(before.transactions, after.transactions),
    roundTrips: divide(before.roundTrips, after.roundTrips),
    records: divide(before.records, after.records),
    offsetCommits: divide(before.offsetCommits, after.offsetCommits),
    consumerRequests: divide(before.consumerRequests, after.consumerRequests),
  };
}

/** Pauses or resumes a Connect connector (`…/connectors/<name>`) and waits until its task says so. */
async function setConnectorState(connector: string, state: 'PAUSED' | 'RUNNING'): Promise<void> {
  const response = await fetch(`${connector}/${state === 'PAUSED' ? 'pause' : 'resume'}`, { method: 'PUT' });
  if (!response.ok) throw new Error(`${connector}: ${response.status} ${await response.text()}`);
  await until(
    `${connector} to be ${state}`,
    async () => ((await (await fetch(`${connector}/status`)).json()) as { tasks: { state: string }[] }).tasks.map((t) => t.state),
    (states) => states.length > 0 && states.every((t) => t === state),
    30_000,
  );
}

/** The results checked in with the current commit: what a change is compared with, however often the bench ran since. */
function checkedInResults(): BenchResults | undefined {
  try {
    const text = execFileSync('git', ['show', 'HEAD:tests/bench/results/results.json'], {
      cwd: repositoryRoot,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return JSON.parse(text) as BenchResults;
  } catch {
    return undefined;
  }
}

function runGenerator(plan: GeneratorPlan): Promise<GeneratorResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./load-generator.ts', import.meta.url))], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(output) as GeneratorResult) : reject(new Error(`the load generator exited with ${code}`)),
    );
    child.stdin.end(JSON.stringify(plan));
  });
}

/**
 * Each component's mean CPU and peak memory, rounded as the results keep them: CPU to a tenth
 * of a percent, since per order it is divided by the orders (a whole percent is 0.2 ms per
 * order at 50/s, and the idle subtraction doubles that).
 */
function rounded(resources: Awaited<ReturnType<ResourceSampler['stop']>>): StepResult['resources'] {
  return Object.fromEntries(
    [...resources].map(([name, r]) => [
      name,
      { cpuPercent: Math.round(r.cpuPercent * 10) / 10, memoryMb: Math.round(r.peakPssBytes / 2 ** 20) },
    ]),
  );
}

function roundedRunQueue(queue: NonNullable<StepResult['runQueue']>): NonNullable<StepResult['runQueue']> {
  return Object.fromEntries(Object.entries(queue).map(([name, q]) => [name, { runMs: Math.round(q.runMs), waitMs: Math.round(q.waitMs) }]));
}

/** Non-202 answers by kind ('no answer' when the request failed). */
function errorsOf(samples: RequestSample[]): Record<string, number> {
  const errors = new Map<string, number>();
  for (const { status } of samples.filter((s) => s.status !== 202)) {
    const kind = status === 0 ? 'no answer' : String(status);
    errors.set(kind, (errors.get(kind) ?? 0) + 1);
  }
  return Object.fromEntries(errors);
}

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const notifications = connectServiceDatabase('notifications', 1);
  const superuser = connectAsSuperuser('postgres', 1);
  await superuser`create extension if not exists pg_stat_statements`;
  const [{ tracked }] = await superuser<[{ tracked: string }]>`select current_setting('track_commit_timestamp') as tracked`;
  if (tracked !== 'on') {
    throw new Error('track_commit_timestamp is off, and the CDC lag is timed from each commit: restart PostgreSQL (make down && make up)');
  }
  // First, while the system is quiet: after the highest rates (of an earlier run too) a backlog
  // is worked off for minutes, and it and autovacuum's work on its rows would take CPU from pgbench.
  await settle(kafkaAdmin, notifications, log);
  log(`pgbench: order-svc's placement transaction, ${settings.poolSize} clients, ${settings.pgbenchSeconds} s`);
  const pgbench = await runPgbench(settings.poolSize, settings.pgbenchSeconds);
  log(`pgbench: ${pgbench.transactionsPerSecond.toFixed(0)} transactions/s, average ${pgbench.latencyAverageMs} ms`);

  const admin = await adminToken();
  const productIds: string[] = [];
  for (let i = 0; i < settings.products; i++) productIds.push(await createProduct(admin, 100_000_000, 1_000, `Bench item ${i + 1}`));
  const customers: Customer[] = [];
  for (let i = 0; i < settings.customers; i++) customers.push(await registerCustomer('bench'));
  const orders = connectServiceDatabase('orders', 1);
  await until(
    'order-svc to know the customers and products',
    async () => {
      const [row] = await orders<{ n: number }[]>`
      select (select count(*) from known_users where id = any(${customers.map((c) => c.id)}::uuid[]))
           + (select count(*) from catalog where product_id = any(${productIds}::uuid[]))::int as n`;
      return row?.n ?? 0;
    },
    (n) => n === customers.length + productIds.length,
    120_000,
  );
  const observer = await observeOrders(kafka);
  log(
    `${customers.length} customers, ${productIds.length} products; rates ${settings.rates.join(', ')} orders/s, ${settings.warmupMs / 1000} s warm-up + ${settings.durationMs / 1000} s each`,
  );

  /**
   * Waits, up to the drain timeout, for the accepted orders' confirmations: how many came, and
   * how long after `since` the last one did.
   */
  const awaitConfirmations = async (accepted: RequestSample[], what: string, since: number) => {
    const count = () => accepted.filter((s) => observer.confirmedSeen.has(s.orderId!)).length;
    const confirmed = await until(
      `${what} to be confirmed`,
      async () => count(),
      (n) => n === accepted.length,
      settings.drainTimeoutMs,
    ).catch(count);
    const drainMs = Math.max(since, ...accepted.map((s) => observer.confirmedSeen.get(s.orderId!) ?? 0)) - since;
    return { confirmed, drainMs };
  };

  /**
   * The most POST /orders accepts, found the way pgbench finds the database's most: as many
   * clients as order-svc's pool has connections, each sending as soon as it is answered, on a
   * quiet stack. Quiet, because order-svc's outbox connector is paused meanwhile: the orders wait
   * in the outbox (in the WAL) and the saga starts on them when it resumes; the confirmations
   * are then waited for as after a step, which also shows that a paused connector loses nothing.
   */
  const measurePostPeak = async (what: string): Promise<PostSaturation> => {
    const warmupMs = 2000;
    const connector = `${endpoints.connectUrl}/connectors/${serviceNamed('order-svc').database}-outbox`;
    log(
      `${what}: ${settings.poolSize} clients back to back, ${warmupMs / 1000} s warm-up + ${settings.peakSeconds} s, order-svc's outbox connector paused`,
    );
    await setConnectorState(connector, 'PAUSED');
    const sampler = componentSampler();
    const samplerStart = setTimeout(() => sampler.start(), warmupMs);
    let generated: GeneratorResult;
    try {
      generated = await runGenerator({
        orderServiceUrls: settings.orderServiceUrls,
        tokens: customers.map((c) => c.token),
        productIds,
        ratePerSecond: 0,
        clients: settings.poolSize,
        warmupMs,
        durationMs: settings.peakSeconds * 1000,
      });
    } finally {
      clearTimeout(samplerStart);
      await setConnectorState(connector, 'RUNNING');
    }
    const resources = await sampler.stop();
    const stepEnd = Date.now();
    const measured = generated.samples.filter((s) => s.measured);
    const accepted = measured.filter((s) => s.orderId !== undefined);
    const { confirmed, drainMs } = await awaitConfirmations(accepted, "the peak's orders", stepEnd);
    const latencies = measured.map((s) => s.latencyMs);
    const peak: PostSaturation = {
      clients: settings.poolSize,
      seconds: settings.peakSeconds,
      requests: measured.length,
      acceptedPerSecond: accepted.filter((s) => s.dueAt + s.latencyMs <= generated.measuredUntil).length / settings.peakSeconds,
      accepted: accepted.length,
      errors: errorsOf(measured),
      post: { p50: percentile(latencies, 50)!, p99: percentile(latencies, 99)! },
      confirmed,
      drainMs,
      resources: rounded(resources),
      generatorCpuPercent: generated.cpuPercent,
      ...(sampler.machine ? { machine: sampler.machine } : {}),
    };
    log(
      `${what}: ${peak.acceptedPerSecond.toFixed(1)}/s accepted, p50/p99 ${ms(peak.post.p50)}/${ms(peak.post.p99)} ms, ` +
        `errors ${JSON.stringify(peak.errors)}, ${confirmed}/${accepted.length} confirmed within ${settings.drainTimeoutMs / 1000} s after; ` +
        `the load generator took ${generated.cpuPercent}% of a core; the machine ${JSON.stringify(sampler.machine)}`,
    );
    return peak;
  };

  // Before the rate steps, like pgbench: after the highest rates a backlog is worked off for
  // minutes. Its own burst is confirmed before the idle window starts.
  // The first burst after a start finds Connect cold: its reader of the paused connector's
  // stream took 43–49% of a core through it, against 18–23% in the bursts after, and the peak
  // was a quarter to a third lower (README, "A cold stack"). A stack that runs for months is
  // past that.
  let warmupPostSaturation: PostSaturation | undefined;
  let postSaturation: PostSaturation | undefined;
  if (settings.peakSeconds > 0) {
    if (settings.warmupPeak) {
      warmupPostSaturation = await measurePostPeak('warm-up, the same burst unmeasured');
      await settle(kafkaAdmin, notifications, log);
    }
    postSaturation = await measurePostPeak('POST /orders peak');
  }
  await settle(kafkaAdmin, notifications, log);

  // What the stack burns with no orders at all (pollers, heartbeats, timers), measured as long
  // as a step: subtracted from each step's CPU, it leaves what the orders themselves cost.
  log(`idle: ${settings.durationMs / 1000} s with no load`);
  const idleSampler = componentSampler();
  idleSampler.start();
  await new Promise((resolve) => setTimeout(resolve, settings.durationMs));
  const idle = rounded(await idleSampler.stop());
  const idlePostgresByKind = idleSampler.kinds && roundedKinds(idleSampler.kinds);
  const idleRunQueue = idleSampler.runQueue && roundedRunQueue(idleSampler.runQueue);
  log(
    `idle: ${Object.values(idle)
      .reduce((sum, r) => sum + r.cpuPercent, 0)
      .toFixed(1)}% CPU in all`,
  );

  const steps: StepResult[] = [];
  for (const rate of settings.rates) {
    const sampler = componentSampler();
    const countersBefore = await workCounters(superuser, kafkaAdmin);
    const samplerStart = setTimeout(() => sampler.start(), settings.warmupMs);
    const generated = await runGenerator({
      orderServiceUrls: settings.orderServiceUrls,
      tokens: customers.map((c) => c.token),
      productIds,
      ratePerSecond: rate,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
    });
    clearTimeout(samplerStart);
    const resources = await sampler.stop();
    const measured = generated.samples.filter((s) => s.measured);
    const accepted = measured.filter((s) => s.orderId !== undefined);
    // Drain runs from the end of the step's schedule: the generator also waited for its last
    // answers, and a backlog confirmed meanwhile is drain all the same.
    const { confirmed, drainMs } = await awaitConfirmations(accepted, "the step's orders", generated.measuredUntil);
    // The step's mails go out after its orders are confirmed: they are waited for, so that
    // their work counts for this step and not for the next one.
    await untilQuiet(kafkaAdmin, notifications, log);
    const placed = generated.samples.filter((s) => s.orderId !== undefined).length;
    const work = perOrder(countersBefore, await workCounters(superuser, kafkaAdmin), placed);
    // The mails of the measured orders, as the other latencies: not those of warm-up orders
    // confirmed late, which past saturation are a fifth of the window's.
    const measuredMails = accepted.flatMap((s) => observer.confirmedEventIds.get(s.orderId!) ?? []);
    const mailLags = (
      await notifications<{ lagMs: number }[]>`
        select extract(epoch from sent_at - occurred_at)::float8 * 1000 as lag_ms from notifications
        where event_id = any(${measuredMails}::uuid[]) and status = 'SENT'`
    ).map((row) => row.lagMs);
    const answeredAt = (s: (typeof accepted)[number]) => Math.round(s.dueAt + s.latencyMs);
    const confirmLatency = (s: (typeof accepted)[number]) =>
      observer.confirmedSeen.has(s.orderId!) ? [observer.confirmedSeen.get(s.orderId!)! - answeredAt(s)] : [];
    const confirmLatencies = accepted.flatMap(confirmLatency);
    const confirmedP50BySecond = Array.from({ length: settings.durationMs / 1000 }, (_, second) => {
      const from = generated.measuredFrom + second * 1000;
      const due = accepted.filter((s) => s.dueAt >= from && s.dueAt < from + 1000);
      return percentile(due.flatMap(confirmLatency), 50) ?? null;
    });
    // CDC lag: from the outbox row's commit (track_commit_timestamp) to the record reaching a
    // consumer. Apart from it, how long the placing transaction was open: created_at is its start.
    // A commit time is null only for a transaction committed while the setting was off, which
    // the check at the start rules out; such a row would be left out rather than fail the run.
    const outboxRows = await orders<{ orderId: string; startedAt: Date; committedAt: Date }[]>`
      select aggregateid as order_id, created_at as started_at, pg_xact_commit_timestamp(xmin) as committed_at from outbox
      where type = 'order-placed' and aggregateid = any(${accepted.map((s) => s.orderId!)})
        and pg_xact_commit_timestamp(xmin) is not null`;
    const cdcLags = outboxRows.flatMap((row) =>
      observer.placedSeen.has(row.orderId) ? [observer.placedSeen.get(row.orderId)! - row.committedAt.getTime()] : [],
    );
    const placingTransactions = outboxRows.map((row) => row.committedAt.getTime() - row.startedAt.getTime());
    const step: StepResult = {
      offeredPerSecond: rate,
      requests: measured.length,
      // Answers that arrived within the window: under overload the rest arrive later, and
      // counting them would report the offered rate as achieved.
      acceptedPerSecond: accepted.filter((s) => answeredAt(s) <= generated.measuredUntil).length / (settings.durationMs / 1000),
      accepted: accepted.length,
      errors: errorsOf(measured),
      post: {
        p50: percentile(
          measured.map((s) => s.latencyMs),
          50,
        )!,
        p95: percentile(
          measured.map((s) => s.latencyMs),
          95,
        )!,
        p99: percentile(
          measured.map((s) => s.latencyMs),
          99,
        )!,
      },
      confirmed: {
        count: confirmed,
        p50: percentile(confirmLatencies, 50),
        p95: percentile(confirmLatencies, 95),
        p99: percentile(confirmLatencies, 99),
      },
      cdcLag: { p50: percentile(cdcLags, 50), p99: percentile(cdcLags, 99) },
      placingTransaction: { p50: percentile(placingTransactions, 50), p99: percentile(placingTransactions, 99) },
      mailLag: { p50: percentile(mailLags, 50), p99: percentile(mailLags, 99) },
      drainMs,
      generatorLagMs: generated.maxSendLagMs,
      generatorCpuPercent: generated.cpuPercent,
      confirmedP50BySecond,
      perOrder: work,
      resources: rounded(resources),
      ...(sampler.kinds ? { postgresByKind: roundedKinds(sampler.kinds) } : {}),
      ...(sampler.runQueue ? { runQueue: roundedRunQueue(sampler.runQueue) } : {}),
      sustained: false,
    };
    step.sustained = step.acceptedPerSecond >= 0.95 * rate && confirmed === accepted.length && (step.confirmed.p99 ?? Infinity) <= 1000;
    steps.push(step);
    log(
      `${rate}/s: ${step.acceptedPerSecond.toFixed(1)}/s accepted, POST p50/p99 ${ms(step.post.p50)}/${ms(step.post.p99)} ms, ` +
        `confirmed ${confirmed}/${accepted.length} p50/p99 ${ms(step.confirmed.p50)}/${ms(step.confirmed.p99)} ms, ` +
        `CDC p50/p99 ${ms(step.cdcLag.p50)}/${ms(step.cdcLag.p99)} ms (placing transaction ${ms(step.placingTransaction?.p50)}/${ms(step.placingTransaction?.p99)}), mail p50/p99 ${ms(step.mailLag?.p50)}/${ms(step.mailLag?.p99)} ms, drain ${ms(step.drainMs)} ms, ` +
        `CPU ${ms(cpuMsPerOrder(step, settings.durationMs / 1000)?.total)} ms/order (${ms(cpuMsPerOrder(step, settings.durationMs / 1000, idle)?.total)} above idle), load generator ${generated.cpuPercent}%, ` +
        `${waitedPerMsRun(wholeStack(step.runQueue))} ms waited for a core per ms run${step.sustained ? '' : ' (not sustained)'}`,
    );
    const sum = (values: Record<string, number>) =>
      Object.values(values)
        .reduce((a, b) => a + b, 0)
        .toFixed(1);
    log(
      `${rate}/s: per order, ${sum(work.roundTrips)} round trips to PostgreSQL (${JSON.stringify(work.roundTrips)}), ${sum(work.transactions)} transactions, ${sum(work.records)} records, ${sum(work.offsetCommits)} offset commit records, the consumers' requests ${JSON.stringify(work.consumerRequests)}`,
    );
    log(
      `${rate}/s: placed → CONFIRMED p50 by second of the step, ms: ${confirmedP50BySecond.map((p) => (p === null ? '–' : Math.round(p))).join(' ')}`,
    );
  }
  await observer.stop();
  await kafkaAdmin.disconnect();
  await superuser.end();
  await notifications.end();
  await orders.end();

  const results: BenchResults = {
    at: new Date().toISOString(),
    commit: measuredCommit(),
    label: settings.label,
    machine: { cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30) },
    settings: {
      rates: settings.rates,
      warmupSeconds: settings.warmupMs / 1000,
      seconds: settings.durationMs / 1000,
      customers: settings.customers,
      products: settings.products,
      poolSize: settings.poolSize,
    },
    steps,
    idle,
    ...(idlePostgresByKind ? { idlePostgresByKind } : {}),
    ...(idleRunQueue ? { idleRunQueue } : {}),
    pgbench,
    ...(postSaturation ? { postSaturation } : {}),
    ...(warmupPostSaturation ? { warmupPostSaturation } : {}),
  };
  mkdirSync(resultsDirectory, { recursive: true });
  const previousFile = `${resultsDirectory}/results.json`;
  const previous =
    checkedInResults() ?? (existsSync(previousFile) ? (JSON.parse(readFileSync(previousFile, 'utf8')) as BenchResults) : undefined);
  writeFileSync(previousFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${resultsDirectory}/report.md`, renderReport(results, previous));
  writeFileSync(
    `${resultsDirectory}/latency.svg`,
    latencyChart('Latency against offered load (POST /orders and placed → CONFIRMED)', [
      { name: 'POST /orders p50', colour: '#1f77b4', points: steps.map((s) => ({ x: s.offeredPerSecond, y: s.post.p50 })) },
      { name: 'POST /orders p99', colour: '#1f77b4', dashed: true, points: steps.map((s) => ({ x: s.offeredPerSecond, y: s.post.p99 })) },
      { name: 'placed → CONFIRMED p50', colour: '#d62728', points: steps.map((s) => ({ x: s.offeredPerSecond, y: s.confirmed.p50 })) },
      {
        name: 'placed → CONFIRMED p99',
        colour: '#d62728',
        dashed: true,
        points: steps.map((s) => ({ x: s.offeredPerSecond, y: s.confirmed.p99 })),
      },
      { name: 'CDC lag p99', colour: '#2ca02c', dashed: true, points: steps.map((s) => ({ x: s.offeredPerSecond, y: s.cdcLag.p99 })) },
    ]),
  );
  log(`results written to ${resultsDirectory} (report.md, latency.svg, results.json)`);
}

await main();
process.exit(0);
