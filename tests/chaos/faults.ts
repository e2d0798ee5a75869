// Faults of `make chaos`, one at a time, each watched until the saga makes progress again:
//  - kill: a component is killed (SIGKILL; PostgreSQL: immediate shutdown), left down for a
//    moment and started again;
//  - freeze: a component is stopped with SIGSTOP for longer than its Kafka group session, so
//    the broker evicts it, then resumed with SIGCONT: it comes back believing it still owns
//    its partitions (or Connect tasks) and has to find out that it does not;
//  - double kill: Kafka killed, started, and killed again within a minute of the first kill,
//    so that the clients' reconnection after the first crash is itself interrupted.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { services, serviceUrl, type ServiceName, type Sql } from '@shop/kit';
import { controlComponent, repositoryRoot, stackEndpoints, type Component, type StackKind } from '../harness/stack.ts';
import type { Random } from './random.ts';

const run = promisify(execFile);

/** Every component a kill can hit: the services, the gateway and the infrastructure. */
export const FAULT_TARGETS: readonly Component[] = [
  'user-svc',
  'product-svc',
  'order-svc',
  'payment-svc',
  'gateway-sim',
  'notification-svc',
  'connect',
  'kafka',
  'registry',
  'postgres',
];

/** The services a freeze can hit: those with a Kafka consumer group (a freeze of the others is a slow kill). */
export const FREEZE_SERVICES: readonly Component[] = services.filter((s) => s.consumes.length > 0).map((s) => s.name);

export type FaultKind = 'kill' | 'freeze' | 'double kill';

export interface PlannedFault {
  kind: FaultKind;
  component: Component;
}

/** One thing the harness did, with when it began and when the command returned. */
export interface FaultStep {
  at: number;
  doneAt: number;
  action: string;
}

export interface Fault extends PlannedFault {
  /** The first step: the kill or the SIGSTOP. */
  startedAt: number;
  /** The component answered its readiness check after the last step. */
  readyAt: number;
  /** The first order accepted after `readyAt` reached a final state (the saga works again). */
  recoveredAt?: number;
  steps: FaultStep[];
}

export interface FaultSettings {
  /** Time under load before a fault, drawn from this range (ms). */
  calmMs: [number, number];
  /** Time a killed component stays down before it is started again (ms). */
  downMs: [number, number];
  /**
   * The Kafka group session timeouts a freeze must outlast: the services' consumers use
   * KafkaJS's default sessionTimeout (kit/src/consumer/consumer.ts sets none), Connect's
   * worker its own `session.timeout.ms` default (connect-distributed.properties sets none).
   */
  sessionTimeoutMs: { service: number; connect: number };
  /** How much longer than the session timeout a freeze lasts, drawn from this range (ms). */
  freezeMarginMs: [number, number];
  /** The second Kafka kill of a double kill comes at most this long after the first. */
  doubleKillWithinMs: number;
  /** Longest wait for the saga to make progress after a restart. */
  recoveryTimeoutMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One round: every target killed once, one consumer service and Connect frozen, and Kafka
 * killed twice in a minute, all in random order.
 */
export function faultPlan(random: Random, rounds: number): PlannedFault[] {
  return Array.from({ length: rounds }, () =>
    random.shuffle<PlannedFault>([
      ...FAULT_TARGETS.map((component) => ({ kind: 'kill' as const, component })),
      { kind: 'freeze', component: random.pick(FREEZE_SERVICES) },
      { kind: 'freeze', component: 'connect' },
      { kind: 'double kill', component: 'kafka' },
    ]),
  ).flat();
}

/** The pid a native-stack command will signal, for the fault log (the process group it leads). */
function nativePid(component: Component): string {
  try {
    const home = process.env['STACK_HOME'] ?? `${repositoryRoot}/.stack`;
    const file = component === 'postgres' ? `${home}/data/postgres/postmaster.pid` : `${home}/run/${component}.pid`;
    return `pid ${readFileSync(file, 'utf8').split('\n')[0]!.trim()}`;
  } catch {
    return 'no pid file';
  }
}

/** Components frozen right now, so that an interrupted run does not leave them stopped. */
const frozen = new Set<Component>();

function freezeArgs(stack: StackKind, action: 'freeze' | 'thaw', component: Component): [string, string[]] {
  return stack === 'native'
    ? [`${repositoryRoot}/stack/bin/native`, [action, component]]
    : ['docker', ['compose', action === 'freeze' ? 'pause' : 'unpause', component]];
}

/** SIGSTOP / SIGCONT to the component's process group (Docker: the cgroup freezer, `compose pause`). */
async function freezeControl(stack: StackKind, action: 'freeze' | 'thaw', component: Component): Promise<void> {
  const [command, args] = freezeArgs(stack, action, component);
  // Noted before the SIGSTOP: an interruption during the command must still thaw it (a thaw
  // of a running process does nothing).
  if (action === 'freeze') frozen.add(component);
  await run(command, args, { cwd: repositoryRoot });
  if (action === 'thaw') frozen.delete(component);
}

/**
 * Whether a thawed component works again by its own means: a service answers its readiness
 * check, Connect reports every connector and task RUNNING. (`stack/bin/native start` would
 * also re-register the connectors, which restarts them and could hide a worker that does not
 * recover from the freeze.)
 */
async function answers(component: Component): Promise<boolean> {
  try {
    if (component === 'connect') {
      const response = await fetch(`${stackEndpoints().connectUrl}/connectors?expand=status`, { signal: AbortSignal.timeout(5_000) });
      const connectors = Object.values(
        (await response.json()) as Record<string, { status: { connector: { state: string }; tasks: { state: string }[] } }>,
      );
      return (
        connectors.length > 0 && connectors.every(({ status }) => [status.connector, ...status.tasks].every((s) => s.state === 'RUNNING'))
      );
    }
    return (await fetch(`${serviceUrl(component as ServiceName)}/health/ready`, { signal: AbortSignal.timeout(5_000) })).ok;
  } catch {
    return false;
  }
}

/** Thaws whatever is frozen, synchronously: for exit paths where nothing can be awaited. */
export function thawAll(stack: StackKind): void {
  for (const component of frozen) {
    const [command, args] = freezeArgs(stack, 'thaw', component);
    try {
      execFileSync(command, args, { cwd: repositoryRoot, stdio: 'ignore' });
      console.error(`[chaos] thawed ${component}`);
    } catch (error) {
      console.error(`[chaos] could not thaw ${component} (run: ${command} ${args.join(' ')}):`, error);
    }
  }
  frozen.clear();
}

export async function injectFault(
  stack: StackKind,
  planned: PlannedFault,
  settings: FaultSettings,
  random: Random,
  orders: Sql,
  log: (line: string) => void,
): Promise<Fault> {
  const steps: FaultStep[] = [];
  /** `work` may return how it ended, when that is not simply done. */
  const step = async (action: string, work: () => Promise<string | void>) => {
    const at = Date.now();
    log(action);
    const outcome = await work();
    steps.push({ at, doneAt: Date.now(), action: outcome ? `${action}: ${outcome}` : action });
  };
  const { component } = planned;
  const native = stack === 'native';
  const pid = () => (native ? ` (${nativePid(component)})` : '');
  const how = {
    kill: component === 'postgres' ? 'immediate shutdown' : native ? 'SIGKILL to its process group' : 'SIGKILL (docker compose kill)',
    freeze: native ? 'SIGSTOP to its process group' : 'docker compose pause (cgroup freezer)',
    thaw: native ? 'SIGCONT to its process group' : 'docker compose unpause',
  };
  const kill = (again = '') => step(`kill ${component}${again}${pid()}: ${how.kill}`, () => controlComponent(stack, 'kill', component));
  const startAndWait = (what: string) =>
    step(`${what} ${component}, until it answers its readiness check`, () => controlComponent(stack, 'start', component));
  const pause = async (ms: number, why: string) => {
    log(`${why}: ${(ms / 1000).toFixed(1)} s`);
    await sleep(ms);
  };

  await pause(random.int(...settings.calmMs), 'calm before the fault');
  if (planned.kind === 'kill') {
    await kill();
    await pause(random.int(...settings.downMs), 'down');
    await startAndWait('start');
  } else if (planned.kind === 'freeze') {
    const session = component === 'connect' ? settings.sessionTimeoutMs.connect : settings.sessionTimeoutMs.service;
    const frozenForMs = session + random.int(...settings.freezeMarginMs);
    await step(
      `freeze ${component}${pid()}: ${how.freeze}, for ${(frozenForMs / 1000).toFixed(1)} s (its group session times out after ${session / 1000} s)`,
      () => freezeControl(stack, 'freeze', component),
    );
    try {
      await pause(frozenForMs, 'frozen');
    } finally {
      await step(`thaw ${component}: ${how.thaw}`, () => freezeControl(stack, 'thaw', component));
    }
    await step(
      `wait until ${component} ${component === 'connect' ? 'reports every connector and task RUNNING' : 'answers its readiness check'}`,
      async () => {
        const deadline = Date.now() + settings.recoveryTimeoutMs;
        while (!(await answers(component))) {
          if (Date.now() > deadline) return `**still not ready after ${settings.recoveryTimeoutMs / 1000} s**`;
          await sleep(250);
        }
      },
    );
  } else {
    await kill();
    const firstKillAt = steps[0]!.at;
    await pause(random.int(...settings.downMs), 'down');
    await startAndWait('start');
    // The second kill at a random moment between now and the end of the window; at once if
    // the restart took the whole window (the log then shows the real gap).
    const latest = firstKillAt + settings.doubleKillWithinMs;
    await pause(Math.max(0, random.int(Date.now(), latest) - Date.now()), 'up between the two kills');
    await kill(` again, ${((Date.now() - firstKillAt) / 1000).toFixed(1)} s after the first kill`);
    await pause(random.int(...settings.downMs), 'down');
    await startAndWait('start');
  }
  const readyAt = steps.at(-1)!.doneAt;
  const recoveredAt = await firstCompletionAfter(orders, readyAt, settings.recoveryTimeoutMs);
  log(
    recoveredAt === undefined
      ? `${component}: no progress within ${settings.recoveryTimeoutMs} ms`
      : `${component}: saga progressing ${recoveredAt - readyAt} ms after it was ready again`,
  );
  return { ...planned, startedAt: steps[0]!.at, readyAt, steps, ...(recoveredAt === undefined ? {} : { recoveredAt }) };
}

/**
 * When the first order created after `since` had both the payment's and the stock's reports,
 * read from order-svc's database (order-svc stamps `updated_at` in the transaction that
 * records a report): both halves of the saga, payment-svc and product-svc, work again. A
 * decision alone would not show it: a declined payment cancels an order before product-svc
 * has answered. A cancellation by the order deadline (TIMED_OUT) does not count.
 */
async function firstCompletionAfter(orders: Sql, since: number, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const [row] = await orders<{ decidedAt: Date | null }[]>`
        select min(updated_at) as decided_at from orders
        where created_at > ${new Date(since)} and payment_outcome is not null and inventory_outcome is not null
          and cancel_reason is distinct from 'TIMED_OUT'`;
      if (row?.decidedAt) return row.decidedAt.getTime();
    } catch {
      // The database may itself be on its way back; the next poll tries again.
    }
    await sleep(250);
  }
  return undefined;
}
