// `make soak`: a steady order load with idle gaps against the running native stack, sampled
// every minute for what would grow over months (memory, outbox and processed_events rows,
// WAL held by the replication slots, consumer lag, orders left PENDING), and a report that
// says in figures whether each series stayed flat. See tests/soak/README.md.
//
//   node tests/soak/run.ts    (environment: SOAK_DURATION SOAK_RATE SOAK_LOAD SOAK_IDLE SOAK_SAMPLE
//                              SOAK_KEEP SOAK_WARMUP SOAK_RESTART SOAK_SEED)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { services, serviceUrl } from '@shop/kit';
import { deadlineCheckInterval } from '../../order-svc/src/jobs/order-deadline.ts';
import { adminToken, createProduct, registerCustomer, until, type Customer } from '../harness/client.ts';
import { connectServiceDatabase, isReachable, repositoryRoot, stackEndpoints, stackKind } from '../harness/stack.ts';
import { OrderLoad } from '../chaos/load.ts';
import { Random } from '../chaos/random.ts';
import { judge, seriesOf } from './analysis.ts';
import { renderReport, type RestartRecord, type SoakRun } from './report.ts';
import { componentPids, Sampler, type Sample } from './sample.ts';

const run = promisify(execFile);

/** "30m", "90s", "2h", or a bare number of minutes. */
function duration(name: string, fallback: string): number {
  const text = process.env[name] || fallback;
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`${name}=${text}: expected a duration such as 90s, 30m or 2h`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'm') as 's' | 'm' | 'h'];
}

const keepMs = duration('SOAK_KEEP', '5m');
const settings = {
  durationMs: duration('SOAK_DURATION', '30m'),
  ratePerSecond: Number(process.env['SOAK_RATE'] || 5),
  loadMs: duration('SOAK_LOAD', '4m'),
  idleMs: duration('SOAK_IDLE', '1m'),
  sampleMs: duration('SOAK_SAMPLE', '1m'),
  keepMs,
  // Long enough for rows written at the start to pass the pruning window and be pruned.
  warmupMs: duration('SOAK_WARMUP', `${(keepMs + 120_000) / 1_000}s`),
  restart: process.env['SOAK_RESTART'] !== '0',
  seed: Number(process.env['SOAK_SEED'] || Math.floor(Math.random() * 2 ** 31)),
  customers: 20,
  products: 4,
  /** How long one intended order is retried under its Idempotency-Key (as in `make chaos`). */
  orderRetryMs: 90_000,
};
/** What the services are started with for the soak, so that pruning shows within the run. */
const windows = { OUTBOX_KEEP_MS: String(settings.keepMs), PROCESSED_EVENTS_KEEP_MS: String(settings.keepMs) };
const INFRASTRUCTURE = ['postgres', 'kafka', 'registry', 'connect'];

const started = Date.now();
const log = (line: string) => console.log(`[soak +${((Date.now() - started) / 60_000).toFixed(1)} min] ${line}`);
const stopping = new AbortController();
class Unusable extends Error {}

/** Fails with what is missing unless the whole native stack is up and answering. */
async function requireStack(): Promise<void> {
  if (stackKind() !== 'native')
    throw new Unusable('make soak reads process memory through the native stack’s pid files: run it with STACK=native against `make up`.');
  const pids = componentPids();
  const down = [...INFRASTRUCTURE, ...services.map((s) => s.name)].filter((c) => {
    const pid = pids.get(c);
    return pid === undefined || !existsSync(`/proc/${pid}`);
  });
  const endpoints = stackEndpoints();
  const unready: string[] = [];
  for (const s of services) {
    const ok = await fetch(`${serviceUrl(s.name)}/health/ready`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (!ok) unready.push(s.name);
  }
  if (down.length > 0 || unready.length > 0 || !(await isReachable(endpoints))) {
    throw new Unusable(
      `the native stack is not (fully) up: ${[...down.map((c) => `${c} not running`), ...unready.map((s) => `${s} not ready`)].join(', ') || 'registry or Connect not answering'}. ` +
        'Start it with `make up` (make soak neither starts nor stops the stack).',
    );
  }
}

/** A process's environment, from /proc; undefined when it cannot be read (another user's process). */
function environmentOf(pid: number): Record<string, string> | undefined {
  try {
    const entries = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const);
    return Object.fromEntries(entries);
  } catch {
    return undefined;
  }
}

async function native(action: 'start' | 'stop', service: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run(`${repositoryRoot}/stack/bin/native`, [action, service], { cwd: repositoryRoot, env });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`stack/bin/native ${action} ${service} failed${stderr ? `:\n${stderr}` : ''}`, { cause: error });
  }
}

interface Restarted {
  record: RestartRecord;
  /** The environment it ran with before the soak, to be restored. */
  original: NodeJS.ProcessEnv;
}

/**
 * Restarts each service with short pruning windows, in the manifest's start order, keeping
 * everything else of the environment it ran with (read from /proc/<pid>/environ), and checks
 * that the new process has them. `restarted` collects each one as soon as it was stopped, so
 * that a failure half-way still restores it.
 */
async function restartWithWindows(restarted: Restarted[]): Promise<void> {
  for (const { name } of services) {
    const pid = componentPids().get(name)!;
    const own = environmentOf(pid);
    const original = own ?? process.env;
    const record: RestartRecord = {
      service: name,
      set: windows,
      verified: false,
      restored: 'not yet',
      restoredWith: own ? 'the environment it ran with' : "make soak's environment (its own could not be read)",
    };
    log(
      `restarting ${name} with ${Object.entries(windows)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
    await native('stop', name, process.env);
    restarted.push({ record, original });
    await native('start', name, { ...original, ...windows });
    const seen = environmentOf(componentPids().get(name) ?? 0);
    record.verified = seen !== undefined && Object.entries(windows).every(([k, v]) => seen[k] === v);
    if (!record.verified)
      throw new Error(`${name} was started with ${JSON.stringify(windows)} but its /proc environment does not show them`);
  }
}

async function restore(restarted: Restarted[]): Promise<void> {
  for (const { record, original } of restarted) {
    try {
      log(`restarting ${record.service} with the environment it had before the soak`);
      await native('stop', record.service, process.env);
      await native('start', record.service, original);
      record.restored = true;
    } catch (error) {
      record.restored = error instanceof Error ? error.message : String(error);
      console.error(`[soak] could not restore ${record.service}: ${record.restored}`);
    }
  }
}

/** The order deadline order-svc applies, from its own gauge. */
async function orderDeadline(): Promise<number | undefined> {
  const text = await fetch(`${serviceUrl('order-svc')}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
  const seconds = /^orders_deadline_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1];
  return seconds === undefined ? undefined : Number(seconds) * 1_000;
}

async function prepare(): Promise<{ customers: Customer[]; productIds: string[] }> {
  const admin = await adminToken();
  const productIds: string[] = [];
  for (let i = 0; i < settings.products; i++) productIds.push(await createProduct(admin, 100_000_000, 500 + 250 * i, `Soak item ${i + 1}`));
  const customers: Customer[] = [];
  for (let i = 0; i < settings.customers; i++) customers.push(await registerCustomer('soak'));
  const orders = connectServiceDatabase('orders', 1);
  try {
    // Orders are refused until order-svc has heard of the customer and the products through Kafka.
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
  } finally {
    await orders.end();
  }
  return { customers, productIds };
}

/** Sleeps until `at`; false if the soak was interrupted first. */
async function sleepUntil(at: number): Promise<boolean> {
  try {
    await sleep(Math.max(0, at - Date.now()), undefined, { signal: stopping.signal });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  await requireStack();
  const restarted: Restarted[] = [];
  try {
    if (settings.restart) await restartWithWindows(restarted);
    const deadlineMs = await orderDeadline().catch(() => undefined);
    const overdueAfterMs = deadlineMs === undefined ? undefined : deadlineMs + deadlineCheckInterval(deadlineMs);
    const { customers, productIds } = await prepare();
    const random = new Random(settings.seed);
    const load = new OrderLoad({ ratePerSecond: settings.ratePerSecond, retryForMs: settings.orderRetryMs }, customers, productIds, random);
    const sampler = new Sampler(
      customers.map((c) => c.id),
      overdueAfterMs,
    );
    await sampler.open();
    const cycleMs = settings.loadMs + settings.idleMs;
    log(
      `${settings.durationMs / 60_000} min: ${settings.ratePerSecond} orders/s for ${settings.loadMs / 60_000} min, then ${settings.idleMs / 60_000} min idle; ` +
        `a sample every ${settings.sampleMs / 1_000} s; seed ${settings.seed}`,
    );

    const startedAt = Date.now();
    const endAt = startedAt + settings.durationMs;
    const samples: Sample[] = [];
    const sampling = (async () => {
      for (let due = startedAt; due < endAt; due += settings.sampleMs) {
        if (!(await sleepUntil(due))) return;
        const sample = await sampler.take((due - startedAt) % cycleMs < settings.loadMs ? 'load' : 'idle', due);
        samples.push(sample);
        const memory = Object.entries(sample.memory)
          .map(([c, m]) => `${c} ${Math.round(m.rssBytes / 2 ** 20)}`)
          .join(', ');
        log(
          `${sample.phase}: ${load.accepted.length} orders accepted; outbox ${Object.values(sample.tables).reduce((n, t) => n + (t.outbox ?? 0), 0)} rows, ` +
            `processed_events ${Object.values(sample.tables).reduce((n, t) => n + (t.processedEvents ?? 0), 0)} rows, ` +
            `consumer lag ${Object.values(sample.consumerLag).reduce((n, l) => n + l, 0)}; RSS MiB: ${memory}` +
            (sample.missing.length > 0 ? `; not read: ${sample.missing.join('; ')}` : ''),
        );
      }
    })();
    const loading = (async () => {
      try {
        for (let cycle = startedAt; cycle < endAt; cycle += cycleMs) {
          load.start();
          const loaded = await sleepUntil(Math.min(cycle + settings.loadMs, endAt));
          await load.stop();
          if (!loaded || !(await sleepUntil(Math.min(cycle + cycleMs, endAt)))) return;
        }
      } finally {
        await load.stop();
      }
    })();
    await Promise.all([sampling, loading]);
    // After the last orders were answered: what the run leaves behind.
    samples.push(await sampler.take('end'));
    const endedAt = Date.now();
    await sampler.close();
    log(`load stopped: ${load.attempts.length} orders offered, ${load.accepted.length} accepted`);

    const plan = { startedAt, durationMs: settings.durationMs, warmupMs: settings.warmupMs, cycleMs };
    await restore(restarted);
    const soak: SoakRun = {
      startedAt,
      endedAt,
      interrupted: stopping.signal.aborted,
      seed: settings.seed,
      ratePerSecond: settings.ratePerSecond,
      plan: { ...plan, loadMs: settings.loadMs, idleMs: settings.idleMs, sampleMs: settings.sampleMs },
      restarts: restarted.map((r) => r.record),
      deadline: deadlineMs === undefined || overdueAfterMs === undefined ? undefined : { ms: deadlineMs, overdueAfterMs },
      load: {
        offered: load.attempts.length,
        accepted: load.accepted.length,
        refused: load.attempts.filter((a) => a.outcome === 'refused').map((a) => a.failures.at(-1) ?? '?'),
        unanswered: load.attempts.filter((a) => a.outcome === 'unanswered').length,
      },
      samples,
      judgements: seriesOf(samples).map((series) => judge(series, plan)),
    };
    const directory = fileURLToPath(new URL('./results', import.meta.url));
    const name = new Date(startedAt)
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replaceAll(':', '-');
    mkdirSync(directory, { recursive: true });
    const report = renderReport(soak);
    writeFileSync(`${directory}/${name}.md`, report);
    writeFileSync(`${directory}/${name}.json`, `${JSON.stringify(soak, null, 2)}\n`);
    console.log(`\n${report}\n(report written to tests/soak/results/${name}.md and .json)`);
    return soak.interrupted ? 130 : 0;
  } finally {
    // Also after a failure: no service may keep running with the soak's short windows.
    await restore(restarted.filter((r) => r.record.restored !== true));
  }
}

process.on('SIGINT', () => {
  if (!stopping.signal.aborted) {
    console.error('[soak] interrupted: stopping the load, restoring the services and writing the report (Ctrl-C again to quit at once)');
    stopping.abort();
    return;
  }
  console.error(
    '[soak] quitting: services restarted for the soak may still run with its short pruning windows; ' +
      'restore each with `stack/bin/native stop <service> && stack/bin/native start <service>`',
  );
  process.exit(130);
});

process.exitCode = await main().catch((error: unknown) => {
  if (error instanceof Unusable) console.error(`error: ${error.message}`);
  else console.error('soak run failed:', error);
  return error instanceof Unusable ? 2 : 1;
});
