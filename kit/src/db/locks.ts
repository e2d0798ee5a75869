import type { Transaction } from './connect.ts';

/**
 * Serialises the transactions that touch one aggregate (an order, say) until they commit,
 * also when no row exists yet to lock: two events of one order arriving on different topics
 * are then applied one after the other, each seeing what the other did.
 */
export async function lockAggregate(tx: Transaction, aggregateId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${aggregateId}, 0))`;
}

/**
 * The locks of lockAggregate for many aggregates at once, taken in one global order (of the
 * lock keys): two transactions that each apply a batch of events, on two topics about the
 * same orders, then wait for each other in turn instead of in a cycle.
 */
export async function lockAggregates(tx: Transaction, aggregateIds: string[]): Promise<void> {
  await tx`
    select pg_advisory_xact_lock(key)
    from (select distinct hashtextextended(id, 0) as key from unnest(${aggregateIds}::text[]) as id) as keys
    order by key`;
}
