import { createHash, randomUUID } from 'node:crypto';
import { HttpProblem, writeOutboxEvent, type AuthenticatedUser, type EventCodec, type Sql, type Transaction } from '@shop/kit';
import {
  catalogEntries, findOrder, findOrderByIdempotencyKey, insertOrder, isUniqueViolation, knownUserExists, ordersOfUser,
  saveSagaState, type OrderRow,
} from '../data-access/orders-repository.ts';
import { applyReport, type SagaReport } from './saga.ts';

export interface OrdersDependencies {
  sql: Sql;
  codec: EventCodec;
}

export interface PlaceOrder {
  items: { productId: string; quantity: number }[];
  paymentToken?: string | undefined;
}

/** The card token charged when a request names none: the simulator's always-succeeding one. */
export const DEFAULT_PAYMENT_TOKEN = 'tok_ok';

/** Equal for equal requests, whatever the order of the lines. */
function requestHash(request: PlaceOrder): string {
  const items = [...request.items].sort((a, b) => a.productId.localeCompare(b.productId));
  return createHash('sha256').update(JSON.stringify({ items, paymentToken: request.paymentToken ?? DEFAULT_PAYMENT_TOKEN })).digest('hex');
}

function sameRequestOrConflict(existing: OrderRow, hash: string): OrderRow {
  if (existing.requestHash !== hash) {
    throw new HttpProblem(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different order request.');
  }
  return existing;
}

/**
 * Accepts an order (PENDING) and writes its `order-placed` event in the same transaction;
 * payment-svc and product-svc take it from there. Prices come from this service's copy of the
 * catalog. With an Idempotency-Key, a retried request returns the order the first one created.
 */
export async function placeOrder(
  { sql, codec }: OrdersDependencies,
  userId: string,
  request: PlaceOrder,
  idempotencyKey: string | undefined,
): Promise<OrderRow> {
  const hash = requestHash(request);
  if (idempotencyKey !== undefined) {
    const existing = await findOrderByIdempotencyKey(sql, userId, idempotencyKey);
    if (existing) return sameRequestOrConflict(existing, hash);
  }
  const productIds = request.items.map((item) => item.productId);
  if (new Set(productIds).size !== productIds.length) {
    throw new HttpProblem(400, 'DUPLICATE_ITEM', 'Each product may appear once; put the total in its quantity.');
  }
  if (!(await knownUserExists(sql, userId))) {
    throw new HttpProblem(422, 'USER_UNKNOWN', 'Your registration has not reached the order service yet; retry in a moment.');
  }
  const catalog = new Map((await catalogEntries(sql, productIds)).map((entry) => [entry.productId, entry]));
  const missing = productIds.filter((id) => !catalog.get(id)?.active);
  if (missing.length > 0) throw new HttpProblem(422, 'PRODUCT_UNKNOWN', `Unknown or inactive product(s): ${missing.join(', ')}.`);
  const currencies = new Set(productIds.map((id) => catalog.get(id)!.currency));
  if (currencies.size > 1) throw new HttpProblem(422, 'CURRENCY_MISMATCH', 'All products of an order must be priced in one currency.');

  const items = request.items.map((item) => ({ ...item, unitPriceCents: catalog.get(item.productId)!.priceCents }));
  const order = {
    id: randomUUID(),
    userId,
    items,
    totalCents: items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
    currency: [...currencies][0]!,
    paymentToken: request.paymentToken ?? DEFAULT_PAYMENT_TOKEN,
    idempotencyKey: idempotencyKey ?? null,
    requestHash: hash,
  };
  try {
    await sql.begin(async (tx) => {
      await insertOrder(tx, order);
      await writeOutboxEvent(tx, codec, {
        topic: 'order-placed',
        aggregateType: 'order',
        aggregateId: order.id,
        value: { orderId: order.id, userId, items, totalCents: order.totalCents, currency: order.currency, paymentToken: order.paymentToken, placedAt: Date.now() },
      });
    });
  } catch (error) {
    // The same key twice at the same moment: the other request won; answer with its order.
    if (idempotencyKey !== undefined && isUniqueViolation(error)) {
      const winner = await findOrderByIdempotencyKey(sql, userId, idempotencyKey);
      if (winner) return sameRequestOrConflict(winner, hash);
    }
    throw error;
  }
  return (await findOrder(sql, order.id))!;
}

/** An order for its owner or an admin; anyone else is told it does not exist. */
export async function getOrder({ sql }: OrdersDependencies, viewer: AuthenticatedUser, id: string): Promise<OrderRow> {
  const order = await findOrder(sql, id);
  if (!order || (order.userId !== viewer.id && viewer.role !== 'admin')) {
    throw new HttpProblem(404, 'ORDER_NOT_FOUND', `There is no order ${id} of yours.`);
  }
  return order;
}

export async function listOrders({ sql }: OrdersDependencies, userId: string, limit: number, before: string | undefined) {
  if (before !== undefined && !(await findOrder(sql, before))) {
    throw new HttpProblem(400, 'INVALID_CURSOR', 'The cursor does not come from this listing.');
  }
  const rows = await ordersOfUser(sql, userId, limit + 1, before);
  const items = rows.slice(0, limit);
  return { items, last: rows.length > limit ? items.at(-1)?.id : undefined };
}

/**
 * Applies a report of payment-svc or product-svc to its order (locked, so two reports of one
 * order are decided one after the other) and writes the order's event if it became final.
 */
export async function recordSagaReport(tx: Transaction, codec: EventCodec, orderId: string, report: SagaReport): Promise<void> {
  const order = await findOrder(tx, orderId, true);
  if (!order) throw new Error(`a saga report for order ${orderId}, which does not exist here`);
  const next = applyReport(order, report);
  const updatedAt = await saveSagaState(tx, { id: order.id, ...next });
  if (order.status !== 'PENDING' || next.status === 'PENDING') return;
  if (next.status === 'CONFIRMED') {
    await writeOutboxEvent(tx, codec, {
      topic: 'order-confirmed',
      aggregateType: 'order',
      aggregateId: order.id,
      value: { orderId: order.id, userId: order.userId, totalCents: order.totalCents, currency: order.currency, confirmedAt: updatedAt.getTime() },
    });
  } else {
    await writeOutboxEvent(tx, codec, {
      topic: 'order-cancelled',
      aggregateType: 'order',
      aggregateId: order.id,
      value: { orderId: order.id, userId: order.userId, reason: next.cancelReason!, cancelledAt: updatedAt.getTime() },
    });
  }
}
