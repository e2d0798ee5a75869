import type { Transaction } from './connect.ts';

/**
 * Serialises the transactions that touch one aggregate (an order, say) until they commit,
 * also when no row exists yet to lock: two events of one order arriving on different topics
 * are then applied one after the other, each seeing what the other did.
 */
export async function lockAggregate(tx: Transaction, aggregateId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${aggregateId}, 0))`;
}
