// Faults of `make chaos`: one component at a time is killed (SIGKILL; PostgreSQL: immediate
// shutdown), left down for a moment, started again, and watched until the saga makes
// progress again.
import type { Sql } from '@shop/kit';
import { controlComponent, type Component, type StackKind } from '../harness/stack.ts';
import type { Random } from './random.ts';

/** Every component a fault can hit: the services, the gateway and the infrastructure. */
export const FAULT_TARGETS: readonly Component[] = [
  'user-svc',
  'product-svc',
  'order-svc',
  'payment-svc',
  'gateway-sim',
  'connect',
  'kafka',
  'registry',
  'postgres',
];

export interface Fault {
  component: Component;
  killedAt: number;
  /** The component answered its readiness check again. */
  readyAt: number;
  /** The first order accepted after `readyAt` reached a final state (the saga works again). */
  recoveredAt?: number;
}

export interface FaultSettings {
  /** Time under load before the kill, drawn from this range (ms). */
  calmMs: [number, number];
  /** Time the component stays down before it is started again (ms). */
  downMs: [number, number];
  /** Longest wait for the saga to make progress after a restart. */
  recoveryTimeoutMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One round: every target once, in random order. */
export function faultPlan(random: Random, rounds: number): Component[] {
  return Array.from({ length: rounds }, () => random.shuffle(FAULT_TARGETS)).flat();
}

export async function injectFault(
  stack: StackKind,
  component: Component,
  settings: FaultSettings,
  random: Random,
  orders: Sql,
  log: (line: string) => void,
): Promise<Fault> {
  await sleep(random.int(...settings.calmMs));
  const killedAt = Date.now();
  log(`kill ${component}`);
  await controlComponent(stack, 'kill', component);
  await sleep(random.int(...settings.downMs));
  log(`start ${component}`);
  await controlComponent(stack, 'start', component);
  const readyAt = Date.now();
  const recoveredAt = await firstCompletionAfter(orders, readyAt, settings.recoveryTimeoutMs);
  log(
    recoveredAt === undefined
      ? `${component}: no progress within ${settings.recoveryTimeoutMs} ms`
      : `${component}: saga progressing ${recoveredAt - readyAt} ms after restart`,
  );
  return { component, killedAt, readyAt, ...(recoveredAt === undefined ? {} : { recoveredAt }) };
}

/**
 * When the first order created after `since` reached its final state, read from order-svc's
 * database (order-svc stamps `updated_at` in the transaction that decides the order).
 */
async function firstCompletionAfter(orders: Sql, since: number, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const [row] = await orders<{ decidedAt: Date | null }[]>`
        select min(updated_at) as decided_at from orders
        where created_at > ${new Date(since)} and status <> 'PENDING'`;
      if (row?.decidedAt) return row.decidedAt.getTime();
    } catch {
      // The database may itself be on its way back; the next poll tries again.
    }
    await sleep(250);
  }
  return undefined;
}
