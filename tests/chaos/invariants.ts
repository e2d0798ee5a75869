// The invariants `make chaos` checks once the system has settled, from the outside (order-svc's
// and product-svc's HTTP APIs, the gateway's ledger) and from the services' databases.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { groupLag, services, type Sql } from '@shop/kit';
import { call, ledger, netCharged, type LedgerCharge, type Order } from '../harness/client.ts';
import type { ReceivedRecord } from '../harness/kafka.ts';
import { stackEndpoints } from '../harness/stack.ts';
import type { OrderAttempt } from './load.ts';
import { tally } from './report.ts';
import { eventCatalogue, type EventTopic } from '../../schemas/catalogue.ts';

export interface InvariantResult {
  name: string;
  holds: boolean;
  /** What was counted, e.g. "1204 orders: 800 CONFIRMED, 404 CANCELLED". */
  counts: string;
  /** The first few cases that break it. */
  violations: string[];
}

export interface RunFacts {
  attempts: OrderAttempt[];
  customerIds: string[];
  initialStock: Map<string, number>;
  adminToken: string;
  /** The poison records the run wrote on purpose: key → topic. */
  poison: Map<string, EventTopic>;
  /** Dead letters written during the run. */
  deadLetters: ReceivedRecord[];
  /** Records of the saga topics, for the run's orders. */
  sagaRecords: ReceivedRecord[];
}

export interface Databases {
  orders: Sql;
  products: Sql;
  payments: Sql;
  notifications: Sql;
}

/** The saga's events that notification-svc turns into a mail to the customer (one each). */
export const MAIL_WORTHY_TOPICS = ['order-confirmed', 'order-cancelled', 'payment-refunded'];

interface OrderState {
  id: string;
  status: Order['status'];
  /** PAYMENT_DECLINED, OUT_OF_STOCK, PAYMENT_ERROR, or TIMED_OUT (the order deadline passed first). */
  cancelReason: string | null;
  /** The Idempotency-Key it was placed under: the run's load gives each intended order its own. */
  idempotencyKey: string | null;
  totalCents: number;
  items: { productId: string; quantity: number }[];
}

const endpoints = stackEndpoints();
const MAX_LISTED = 5;

/**
 * Payment states in which payment-svc does not yet know how a charge or a refund ended (the
 * gateway's answer was lost); its retry job resolves them, so settling waits for them.
 */
export const UNRESOLVED_PAYMENT = ['CHARGE_PENDING', 'REFUND_PENDING'];
/** A refund the gateway refused for good: final, but a compensation that did not happen. */
const GAVE_UP_PAYMENT = ['REFUND_FAILED'];

function result(name: string, counts: string, violations: string[]): InvariantResult {
  return {
    name,
    holds: violations.length === 0,
    counts,
    violations: violations
      .slice(0, MAX_LISTED)
      .concat(violations.length > MAX_LISTED ? [`... and ${violations.length - MAX_LISTED} more`] : []),
  };
}

/** Runs `work` over `items`, `width` at a time. */
async function mapConcurrently<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

/** Every order order-svc holds for the run's customers, including any whose 202 was lost. */
export async function ordersOfRun(orders: Sql, customerIds: string[]): Promise<OrderState[]> {
  return orders<OrderState[]>`
    select o.id, o.status, o.cancel_reason, o.idempotency_key, o.total_cents,
      (select json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity)) from order_items i where i.order_id = o.id) as items
    from orders o where o.user_id = any(${customerIds}::uuid[])`;
}

/**
 * Each poison record that a group consuming its topic did not dead-letter (the dead letter's
 * `dlq.consumer.group`; groups are named after their service). A group may write a letter
 * twice: a kill between the letter and the offset commit delivers the record again.
 */
export function poisonNotDeadLettered(
  poison: ReadonlyMap<string, EventTopic>,
  deadLetters: readonly Pick<ReceivedRecord, 'key' | 'headers'>[],
): string[] {
  return [...poison].flatMap(([key, topic]) =>
    Object.keys(eventCatalogue[topic].consumers).flatMap((group) => {
      const letters = deadLetters.filter((r) => r.key === key && r.headers['dlq.consumer.group'] === group).length;
      return letters > 0 ? [] : [`poison ${key} on ${topic}: no dead letter from ${group}`];
    }),
  );
}

/**
 * Every service's consumer group has committed every record of the topics it reads: none was
 * left stuck by a fault (the order deadline would have cancelled what it held up, and the
 * other invariants passed). Offsets are committed once a second, so it is waited for.
 */
export async function consumersCaughtUp(admin: Admin): Promise<InvariantResult> {
  const consumers = services.filter((service) => service.consumes.length > 0);
  const lagOfEach = async () =>
    Promise.all(consumers.map(async (service) => [service.group, await groupLag(admin, service.group, service.consumes)] as const));
  let lags = await lagOfEach();
  for (const deadline = Date.now() + 30_000; lags.some(([, lag]) => lag > 0n) && Date.now() < deadline; lags = await lagOfEach())
    await sleep(1_000);
  return result(
    'every consumer group has committed every record of the topics it reads (lag 0)',
    lags.map(([group, lag]) => `${group} ${lag}`).join(', '),
    lags.filter(([, lag]) => lag > 0n).map(([group, lag]) => `${group}: ${lag} records not committed 30 s after the run settled`),
  );
}

export async function checkInvariants(facts: RunFacts, db: Databases): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  const accepted = facts.attempts.filter((a) => a.outcome === 'accepted');

  // 1. Every 202 is final, seen through the public API.
  const seen = await mapConcurrently(
    accepted,
    16,
    async (attempt) => (await call<Order>('GET', `${endpoints.orderService}/orders/${attempt.orderId}`, { token: facts.adminToken })).body,
  );
  results.push(
    result(
      'every order accepted with 202 is CONFIRMED or CANCELLED (GET /orders/:id)',
      `${accepted.length} accepted: ${tally(seen.map((o) => o.status ?? 'missing'))}`,
      seen.flatMap((order, i) =>
        order.status === 'CONFIRMED' || order.status === 'CANCELLED' ? [] : [`${accepted[i]!.orderId}: ${JSON.stringify(order)}`],
      ),
    ),
  );

  // 2. Nothing accepted is missing, nothing is doubled (one order per intended order, and an
  //    order whose 202 was lost only for one the client gave up on), and nothing else is left
  //    half-done in order-svc's database.
  const all = await ordersOfRun(db.orders, facts.customerIds);
  const known = new Set(all.map((o) => o.id));
  const acceptedIds = new Set(accepted.map((a) => a.orderId!));
  const answerLost = all.filter((o) => !acceptedIds.has(o.id));
  const attemptByKey = new Map(facts.attempts.map((a) => [a.idempotencyKey, a]));
  const ordersByKey = Map.groupBy(all, (o) => o.idempotencyKey ?? '');
  const cancelled = all.filter((o) => o.status === 'CANCELLED');
  results.push(
    result(
      "order-svc's database holds every accepted order, and every order of the run there is final",
      `${all.length} orders in the database (${answerLost.length} whose 202 never reached the client): ${tally(all.map((o) => o.status))}; ` +
        `cancelled: ${tally(cancelled.map((o) => o.cancelReason ?? '?'))} (${cancelled.filter((o) => o.cancelReason === 'TIMED_OUT').length} TIMED_OUT by the order deadline)`,
      [
        ...[...acceptedIds].filter((id) => !known.has(id)).map((id) => `${id}: accepted but not in the database`),
        ...all.filter((o) => o.status === 'PENDING').map((o) => `${o.id}: still PENDING`),
        ...[...ordersByKey]
          .filter(([key, orders]) => !attemptByKey.has(key) || orders.length > 1)
          .map(([key, orders]) => `Idempotency-Key ${JSON.stringify(key)}: ${orders.length} orders, of no intended order or of one`),
        ...answerLost
          .map((o) => ({ id: o.id, outcome: attemptByKey.get(o.idempotencyKey ?? '')?.outcome ?? 'nowhere' }))
          .filter(({ outcome }) => outcome !== 'unanswered')
          .map(({ id, outcome }) => `${id}: its 202 never reached the client, yet its attempt ended ${outcome}`),
      ],
    ),
  );

  // 3. Money: exactly one net charge of the total for a CONFIRMED order, none for a CANCELLED one.
  const charges = await mapConcurrently(all, 16, (order) => ledger(order.id));
  const chargeViolations: string[] = [];
  all.forEach((order, i) => {
    const orderCharges: LedgerCharge[] = charges[i]!;
    const succeeded = orderCharges.filter((c) => c.status === 'SUCCEEDED');
    const net = netCharged(orderCharges);
    if (succeeded.length > 1) chargeViolations.push(`${order.id}: charged ${succeeded.length} times`);
    if (order.status === 'CONFIRMED' && net !== order.totalCents)
      chargeViolations.push(`${order.id}: CONFIRMED, net charge ${net} for a total of ${order.totalCents}`);
    if (order.status === 'CANCELLED' && net !== 0) chargeViolations.push(`${order.id}: CANCELLED, net charge ${net}`);
  });
  const refunded = charges.filter((c) => c.some((charge) => charge.refunds.length > 0)).length;
  results.push(
    result(
      'gateway ledger: a CONFIRMED order has exactly one net charge of its total, a CANCELLED one none',
      `${charges.filter((c) => c.some((charge) => charge.status === 'SUCCEEDED')).length} orders charged, ${refunded} of them refunded`,
      chargeViolations,
    ),
  );

  // 3b. payment-svc's own view agrees: no charge or refund of the run left unresolved or given
  //     up (a TIMED_OUT order may have been charged after its cancellation; 3 shows it refunded).
  const payments = await db.payments<{ orderId: string; status: string }[]>`
    select order_id, status from payments where order_id = any(${[...known]}::uuid[])`;
  results.push(
    result(
      `payment-svc resolved every payment of the run (none left ${[...UNRESOLVED_PAYMENT, ...GAVE_UP_PAYMENT].join(', ')})`,
      `payments: ${tally(payments.map((p) => p.status))}`,
      payments
        .filter((p) => UNRESOLVED_PAYMENT.includes(p.status) || GAVE_UP_PAYMENT.includes(p.status))
        .map((p) => `${p.orderId}: payment ${p.status}`),
    ),
  );

  // 4. Stock held by each order, from product-svc's reservations.
  const reservations = new Map(
    (
      await db.products<{ orderId: string; status: string; units: number }[]>`
    select r.order_id, r.status, coalesce(sum(i.quantity), 0)::int as units
    from reservations r left join reservation_items i using (order_id)
    where r.order_id = any(${[...known]}::uuid[]) group by r.order_id, r.status`
    ).map((r) => [r.orderId, r]),
  );
  const stockViolations: string[] = [];
  for (const order of all) {
    const reservation = reservations.get(order.id);
    const units = order.items.reduce((sum, item) => sum + item.quantity, 0);
    if (order.status === 'CONFIRMED' && (reservation?.status !== 'RESERVED' || reservation.units !== units)) {
      stockViolations.push(`${order.id}: CONFIRMED for ${units} units, reservation ${JSON.stringify(reservation ?? null)}`);
    }
    if (order.status === 'CANCELLED' && reservation?.status === 'RESERVED')
      stockViolations.push(`${order.id}: CANCELLED but still holds ${reservation.units} units`);
  }
  results.push(
    result(
      'a CONFIRMED order holds its stock, a CANCELLED order holds none (product-svc reservations)',
      `reservations: ${tally([...reservations.values()].map((r) => r.status))}`,
      stockViolations,
    ),
  );

  // 5. Stock conservation per product, through the public API.
  const confirmedUnits = new Map<string, number>();
  for (const order of all.filter((o) => o.status === 'CONFIRMED')) {
    for (const item of order.items) confirmedUnits.set(item.productId, (confirmedUnits.get(item.productId) ?? 0) + item.quantity);
  }
  const conservation: string[] = [];
  const lines: string[] = [];
  for (const [productId, initial] of facts.initialStock) {
    const current = (await call<{ stock: number }>('GET', `${endpoints.productService}/products/${productId}`)).body.stock;
    const sold = confirmedUnits.get(productId) ?? 0;
    lines.push(`${initial} = ${current} + ${sold}`);
    if (initial !== current + sold)
      conservation.push(`${productId}: initial ${initial}, now ${current}, ${sold} units in CONFIRMED orders`);
  }
  results.push(result('for every product: initial stock = current stock + units in CONFIRMED orders', lines.join('; '), conservation));

  // 6. No event applied twice: at most one decision per order and step in each service's
  //    outbox, one event id per order and topic in Kafka (a redelivered record keeps its id),
  //    and exactly one order-placed and one order-confirmed/-cancelled per order on the topics.
  //    "Exactly" is read from Kafka because the outbox pruner deletes rows older than
  //    OUTBOX_KEEP_MS, which a long run outlasts.
  const decisions = [
    { db: db.orders, types: ['order-placed'] },
    { db: db.orders, types: ['order-confirmed', 'order-cancelled'] },
    { db: db.payments, types: ['payment-success', 'payment-failure'] },
    { db: db.payments, types: ['payment-refunded'] },
    { db: db.products, types: ['inventory-reserved', 'inventory-rejected'] },
  ];
  const twice: string[] = [];
  let outboxRows = 0;
  for (const { db: sql, types } of decisions) {
    const rows = await sql<{ aggregateId: string; events: number }[]>`
      select aggregateid as aggregate_id, count(*)::int as events from outbox
      where type = any(${types}) and aggregateid = any(${[...known]}) group by aggregateid`;
    outboxRows += rows.reduce((sum, r) => sum + r.events, 0);
    for (const row of rows) if (row.events > 1) twice.push(`${row.aggregateId}: ${row.events} × ${types.join('/')} in the outbox`);
  }
  const idsPerKey = new Map<string, Set<string>>();
  for (const record of facts.sagaRecords) {
    const key = `${record.topic} ${record.key}`;
    idsPerKey.set(key, (idsPerKey.get(key) ?? new Set()).add(record.headers['id'] ?? ''));
  }
  for (const [key, ids] of idsPerKey) if (ids.size > 1) twice.push(`${key}: ${ids.size} different events`);
  for (const topics of [['order-placed'], ['order-confirmed', 'order-cancelled']]) {
    const missing = [...known].filter((id) => topics.reduce((sum, topic) => sum + (idsPerKey.get(`${topic} ${id}`)?.size ?? 0), 0) !== 1);
    if (missing.length > 0)
      twice.push(
        `${topics.join('/')}: ${known.size - missing.length} of ${known.size} orders have exactly one on the topics (e.g. ${missing[0]})`,
      );
  }
  const redelivered = facts.sagaRecords.length - [...idsPerKey.values()].reduce((sum, ids) => sum + ids.size, 0);
  results.push(
    result(
      'no event applied twice: one decision per order and step in each outbox and on each topic',
      `${outboxRows} outbox rows still in the outboxes (the pruner deletes older ones); ${facts.sagaRecords.length} saga records in Kafka, of which ${redelivered} redelivered copies (same event id)`,
      twice,
    ),
  );

  // 7. The dead-letter topic holds the run's poison and nothing else.
  const deadKeys = new Set(facts.deadLetters.map((r) => r.key ?? ''));
  const expectedLetters = [...facts.poison.values()].reduce((sum, topic) => sum + Object.keys(eventCatalogue[topic].consumers).length, 0);
  results.push(
    result(
      'dlq holds nothing but the poison records the run injected, each dead-lettered by every group that consumes its topic',
      `${facts.deadLetters.length} dead letters written during the run (${expectedLetters} expected), for ${deadKeys.size} of ${facts.poison.size} poison records`,
      [
        ...facts.deadLetters
          .filter((r) => !facts.poison.has(r.key ?? ''))
          .map(
            (r) =>
              `unexpected dead letter: ${r.headers['dlq.source.topic']} key ${r.key} (${r.headers['dlq.reason']}: ${r.headers['dlq.error']})`,
          ),
        ...poisonNotDeadLettered(facts.poison, facts.deadLetters),
      ],
    ),
  );

  // 8. Every mail-worthy event of the run is one notification, sent. Keyed by the event id, a
  //    redelivery cannot record a second; a kill between the SMTP server's acceptance and the
  //    commit sends a mail again (at least once), which only the SMTP server could count.
  const worthy = new Set(facts.sagaRecords.filter((r) => MAIL_WORTHY_TOPICS.includes(r.topic)).map((r) => r.headers['id'] ?? ''));
  const notifications = await db.notifications<{ eventId: string; kind: string; status: string }[]>`
    select event_id, kind, status from notifications where user_id = any(${facts.customerIds}::uuid[]) and kind <> 'WELCOME'`;
  const recorded = new Set(notifications.map((n) => n.eventId));
  results.push(
    result(
      'every order-confirmed, order-cancelled and payment-refunded of the run is one notification, sent (notification-svc)',
      `${worthy.size} mail-worthy events; notifications: ${tally(notifications.map((n) => `${n.kind} ${n.status}`))}`,
      [
        ...[...worthy].filter((id) => !recorded.has(id)).map((id) => `event ${id}: no notification`),
        ...notifications
          .filter((n) => !worthy.has(n.eventId))
          .map((n) => `notification ${n.eventId} (${n.kind}): no such event of the run`),
        ...notifications.filter((n) => n.status !== 'SENT').map((n) => `notification ${n.eventId} (${n.kind}): ${n.status}`),
      ],
    ),
  );
  return results;
}
