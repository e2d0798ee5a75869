import type { PendingQuery, Row } from 'postgres';
import type { Transaction } from './connect.ts';
import { PerTransaction } from './per-transaction.ts';

/**
 * The aggregates each open transaction has locked here. A lock is held until the transaction
 * ends, so asking for it again is needless: a handler's lockAggregate after its consumer has
 * locked the batch's aggregates then costs no round trip.
 */
const held = new PerTransaction(() => new Set<string>());

function remember(tx: Transaction, aggregateIds: Iterable<string>): void {
  const locked = held.of(tx);
  for (const id of aggregateIds) locked.add(id);
}

/**
 * Serialises the transactions that touch one aggregate (an order, say) until they commit,
 * also when no row exists yet to lock: two events of one order arriving on different topics
 * are then applied one after the other, each seeing what the other did.
 */
export async function lockAggregate(tx: Transaction, aggregateId: string): Promise<void> {
  if (held.peek(tx)?.has(aggregateId)) return;
  await tx`select pg_advisory_xact_lock(hashtextextended(${aggregateId}, 0))`;
  remember(tx, [aggregateId]);
}

/**
 * The locks of lockAggregate for many aggregates at once, as a query to read inside a larger
 * statement (the locks then cost no round trip of their own): one row per distinct lock, taken
 * in one global order (of the lock keys), so two transactions that each apply a batch of events,
 * on two topics about the same orders, wait for each other in turn instead of in a cycle.
 * They count as held from here on: should the statement fail, the transaction fails with it.
 */
export function aggregateLocks(tx: Transaction, aggregateIds: string[]): PendingQuery<Row[]> {
  remember(tx, aggregateIds);
  return tx`
    select pg_advisory_xact_lock(key)
    from (select distinct hashtextextended(id, 0) as key from unnest(${aggregateIds}::text[]) as id) as keys
    order by key`;
}
