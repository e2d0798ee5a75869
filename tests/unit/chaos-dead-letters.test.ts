// make chaos checks that every group consuming a poisoned topic dead-letters the poison.
import { expect, it } from 'vitest';
import { poisonNotDeadLettered } from '../chaos/invariants.ts';

const letter = (key: string, group: string) => ({ key, headers: { 'dlq.consumer.group': group } });

it('wants a dead letter of each poison record from each group that consumes its topic, twice allowed', () => {
  // order-placed is read by payment-svc and product-svc.
  const poison = new Map([['p1', 'order-placed' as const]]);
  expect(poisonNotDeadLettered(poison, [letter('p1', 'payment-svc'), letter('p1', 'product-svc')])).toEqual([]);
  expect(poisonNotDeadLettered(poison, [letter('p1', 'payment-svc')])).toEqual([
    'poison p1 on order-placed: no dead letter from product-svc',
  ]);
  // Written again after a kill before the offset commit: still dead-lettered.
  expect(poisonNotDeadLettered(poison, [letter('p1', 'payment-svc'), letter('p1', 'payment-svc'), letter('p1', 'product-svc')])).toEqual(
    [],
  );
});
