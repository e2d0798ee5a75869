import { createHash, randomUUID } from 'node:crypto';
import {
  commonProblems,
  eventCatalogue,
  invalidCursor,
  keysetPage,
  CURRENCY_PATTERN,
  MAX_PRICE_CENTS,
  publishWith,
  uniqueViolation,
  type AuthenticatedUser,
  type BatchFinisher,
  type BatchLocker,
  type EventCodec,
  type ProductUpdated,
  type Sql,
  type Transaction,
  type UserRegistered,
  type UserUpdated,
} from '@shop/kit';
import {
  findOrder,
  findOrderByIdempotencyKey,
  insertKnownUser,
  insertPlacedOrder,
  lockOrder,
  lockOrders,
  lockOverdueOrders,
  ordersMatching,
  ordersOfUser,
  placementFacts,
  saveStagedSagaStates,
  stageSagaState,
  upsertCatalogEntry,
  upsertKnownUser,
  type LockedOrder,
  type OrderFilter,
} from '../data-access/orders-repository.ts';
import { orderCancelled, orderConfirmed, orderPlaced } from './events.ts';
import { orderProblems } from './problems.ts';
import { applyReport, isCancellable, missingReports, type SagaReport, type SagaSide, type SagaState } from './saga.ts';

export interface OrderLine {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

/** An order as stored, with its lines (in product id order) and the saga's progress. */
export interface OrderRow extends SagaState {
  id: string;
  userId: string;
  totalCents: number;
  currency: string;
  paymentToken: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  createdAt: Date;
  updatedAt: Date;
  items: OrderLine[];
}

/** A product as order-svc knows it from product-update: what an order line needs. */
export interface CatalogEntry {
  productId: string;
  priceCents: number;
  currency: string;
  active: boolean;
}

/** A user as order-svc knows them from user-registration and user-updated. */
export interface KnownUser {
  id: string;
  username: string;
  email: string | null;
  fullName: string | null;
  disabled: boolean;
  version: number;
  registeredAt: Date;
}

export interface OrdersDependencies {
  sql: Sql;
  codec: EventCodec;
}

interface RequestedLine {
  productId: string;
  quantity: number;
}

export interface PlaceOrder {
  items: RequestedLine[];
  paymentToken?: string | undefined;
}

/** The card token charged when a request names none: the simulator's always-succeeding one. */
export const DEFAULT_PAYMENT_TOKEN = 'tok_ok';

/**
 * Equal for equal requests, whatever the order of the lines: `lines` as placeOrder rebuilt
 * them (fields in one order, ids in lower case), so that a retry serialised by another client
 * is the same request.
 */
function requestHash(lines: readonly RequestedLine[], paymentToken: string): string {
  const items = lines.toSorted((a, b) => a.productId.localeCompare(b.productId));
  return createHash('sha256').update(JSON.stringify({ items, paymentToken })).digest('hex');
}

function sameRequestOrConflict(existing: OrderRow | undefined, hash: string): OrderRow {
  // Orders are never deleted: the one found a moment ago is still there.
  if (!existing) throw new Error('the order of this Idempotency-Key was found, then not');
  if (existing.requestHash !== hash) {
    throw orderProblems.IDEMPOTENCY_KEY_REUSED('This Idempotency-Key was used for a different order request.');
  }
  return existing;
}

/**
 * Accepts an order (PENDING) and writes its `order-placed` event with it, atomically;
 * payment-svc and product-svc take it from there. Prices come from this service's copy of the
 * catalog. With an Idempotency-Key, a retried request returns the order the first one created.
 * Two round trips: one read of everything the checks need, one statement that writes.
 */
export async function placeOrder(
  { sql, codec }: OrdersDependencies,
  userId: string,
  request: PlaceOrder,
  idempotencyKey: string | undefined,
): Promise<OrderRow> {
  // Ids are accepted in any case; the catalog and the events have PostgreSQL's lower case.
  const lines: RequestedLine[] = request.items.map(({ productId, quantity }) => ({ productId: productId.toLowerCase(), quantity }));
  const paymentToken = request.paymentToken ?? DEFAULT_PAYMENT_TOKEN;
  const hash = requestHash(lines, paymentToken);
  const productIds = lines.map((line) => line.productId);
  if (new Set(productIds).size !== productIds.length) {
    throw orderProblems.DUPLICATE_ITEM('Each product may appear once; put the total in its quantity.');
  }
  const facts = await placementFacts(sql, userId, productIds, idempotencyKey ?? null);
  if (facts.earlierOrderId) return sameRequestOrConflict(await findOrder(sql, facts.earlierOrderId), hash);
  if (!facts.customer) throw orderProblems.USER_UNKNOWN('Your registration has not reached the order service yet; retry in a moment.');
  // The token check refuses a disabled account already; this holds for a token verified
  // in the moment before the account_states row arrived.
  if (facts.customer.disabled) throw commonProblems.ACCOUNT_DISABLED('This account has been disabled; it cannot place orders.');
  const catalog = new Map(facts.catalog.map((entry) => [entry.productId, entry]));
  const missing = productIds.filter((id) => !catalog.get(id)?.active);
  if (missing.length > 0) throw orderProblems.PRODUCT_UNKNOWN(`Unknown or inactive product(s): ${missing.join(', ')}.`);
  const currencies = new Set(productIds.map((id) => catalog.get(id)!.currency));
  if (currencies.size > 1) throw orderProblems.CURRENCY_MISMATCH('All products of an order must be priced in one currency.');

  const items = lines
    .map((line) => ({ ...line, unitPriceCents: catalog.get(line.productId)!.priceCents }))
    .toSorted((a, b) => (a.productId < b.productId ? -1 : 1));
  const order = {
    id: randomUUID(),
    userId,
    items,
    totalCents: items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
    currency: [...currencies][0]!,
    paymentToken,
    idempotencyKey: idempotencyKey ?? null,
    requestHash: hash,
  };
  try {
    const times = await publishWith(codec, orderPlaced(order, Date.now()), (row) => insertPlacedOrder(sql, order, row));
    return { ...order, status: 'PENDING', cancelReason: null, paymentOutcome: null, inventoryOutcome: null, ...times };
  } catch (error) {
    // The same key twice at the same moment: the other request won; answer with its order.
    if (idempotencyKey !== undefined && uniqueViolation(error) !== undefined) {
      const winner = await findOrderByIdempotencyKey(sql, userId, idempotencyKey);
      if (winner) return sameRequestOrConflict(winner, hash);
    }
    throw error;
  }
}

/** An order for its owner or an admin; anyone else is told it does not exist. */
export async function getOrder({ sql }: OrdersDependencies, viewer: AuthenticatedUser, id: string): Promise<OrderRow> {
  const order = await findOrder(sql, id);
  if (!order || (order.userId !== viewer.id && viewer.role !== 'admin')) {
    throw orderProblems.ORDER_NOT_FOUND(`There is no order ${id} of yours.`);
  }
  return order;
}

export async function listOrders({ sql }: OrdersDependencies, userId: string, limit: number, before: string | undefined) {
  // Another user's order is no position in this user's listing (nor a way to learn it exists).
  if (before !== undefined && (await findOrder(sql, before))?.userId !== userId) throw invalidCursor();
  const rows = await ordersOfUser(sql, userId, limit + 1, before);
  return keysetPage(rows, limit, (order) => order.id);
}

/** Every user's orders matching `filter`, newest first, one page at a time: the admin's listing. */
export async function listAllOrders({ sql }: OrdersDependencies, filter: OrderFilter, limit: number, before: string | undefined) {
  if (before !== undefined && !(await findOrder(sql, before))) throw invalidCursor();
  const rows = await ordersMatching(sql, filter, limit + 1, before);
  return keysetPage(rows, limit, (order) => order.id);
}

/**
 * Decides what a locked order becomes on a report (its deadline, a cancellation), and stages
 * that with the order's event if its status changed just now: order-confirmed, or
 * order-cancelled (on which payment-svc refunds whatever was charged and product-svc releases
 * whatever was reserved, whenever their own steps land). The transaction writes what it
 * staged with saveStagedSagaStates before it commits: the consumer after its batch
 * (saveDecisions), the other callers themselves.
 */
async function decide(
  tx: Transaction,
  codec: EventCodec,
  // What saveStagedSagaStates stores as updated_at: the transaction's time, read with the lock.
  { lockedAt: updatedAt, ...order }: LockedOrder,
  report: SagaReport,
): Promise<OrderRow> {
  const next = applyReport(order, report);
  const state = { id: order.id, ...next };
  const event =
    next.status === 'CONFIRMED' && order.status !== 'CONFIRMED'
      ? orderConfirmed(order, updatedAt)
      : next.status === 'CANCELLED' && order.status !== 'CANCELLED'
        ? orderCancelled(order, next.cancelReason!, updatedAt)
        : undefined;
  if (event) await publishWith(codec, event, async (row) => stageSagaState(tx, state, row));
  else stageSagaState(tx, state);
  return { ...order, ...next, updatedAt };
}

/**
 * A cancellation asked for by the order's customer (CUSTOMER_CANCELLED) or an admin
 * (ADMIN_CANCELLED, for anyone else's order). The order is locked, so a cancellation and a
 * saga report, or two cancellations, are decided one after the other: the first cancellation
 * writes order-cancelled, and a repeated one (a retry, a double click) answers with the order
 * as it is. An order cancelled for another reason cannot be cancelled again (409).
 */
export async function cancelOrder({ sql, codec }: OrdersDependencies, viewer: AuthenticatedUser, id: string): Promise<OrderRow> {
  return sql.begin(async (tx) => {
    const order = await lockOrder(tx, id);
    if (!order || (order.userId !== viewer.id && viewer.role !== 'admin')) {
      throw orderProblems.ORDER_NOT_FOUND(`There is no order ${id} of yours.`);
    }
    const request = order.userId === viewer.id ? 'CUSTOMER_CANCELLED' : 'ADMIN_CANCELLED';
    if (!isCancellable(order)) {
      if (order.cancelReason === 'CUSTOMER_CANCELLED' || order.cancelReason === 'ADMIN_CANCELLED') return order;
      throw orderProblems.ORDER_NOT_CANCELLABLE(`Order ${id} was already cancelled (${order.cancelReason}).`);
    }
    const cancelled = await decide(tx, codec, order, { cancel: request });
    await saveStagedSagaStates(tx);
    return cancelled;
  });
}

/**
 * Applies a report of payment-svc or product-svc to its order (locked, so two reports of one
 * order, or a report and the deadline, are decided one after the other). The decision is
 * staged: saveDecisions writes a batch's together.
 */
export async function recordSagaReport(tx: Transaction, codec: EventCodec, orderId: string, report: SagaReport): Promise<void> {
  const order = await lockOrder(tx, orderId);
  if (!order) throw new Error(`a saga report for order ${orderId}, which does not exist here`);
  await decide(tx, codec, order, report);
}

/**
 * Locks and reads the orders of a batch of reports in one statement, before the reports are
 * applied: recordSagaReport then finds each order there, one round trip fewer per report
 * than a lock and read of its own. The events order-svc consumes about orders are the
 * reports, and their key is the order's id.
 */
export const lockReportedOrders: BatchLocker = async (tx, events) => {
  const orderIds = events.filter((event) => eventCatalogue[event.topic].aggregate === 'order').map((event) => event.key);
  if (orderIds.length > 0) await lockOrders(tx, orderIds);
};

/** Writes, last in a consumed batch's transaction, the decisions its reports staged: one statement for the batch. */
export const saveDecisions: BatchFinisher = saveStagedSagaStates;

/** An order cancelled at its deadline, with what it was still waiting for. */
export interface TimedOutOrder {
  orderId: string;
  placedAt: Date;
  /** The sides that never reported: their step was dead-lettered, is stuck, or is very late. */
  missing: SagaSide[];
}

/**
 * Cancels, TIMED_OUT, up to `limit` of the orders still PENDING `deadlineMs` after they were
 * placed, in one transaction, through the same decision as a report: the order-cancelled
 * event commits with the new state, and payment-svc refunds and product-svc releases whatever
 * the missing step may still do late. Returns the orders it cancelled.
 */
export async function cancelOverdueOrders({ sql, codec }: OrdersDependencies, deadlineMs: number, limit: number): Promise<TimedOutOrder[]> {
  return sql.begin(async (tx) => {
    const cancelled: TimedOutOrder[] = [];
    for (const order of await lockOverdueOrders(tx, deadlineMs, limit)) {
      await decide(tx, codec, order, { deadline: 'PASSED' });
      cancelled.push({ orderId: order.id, placedAt: order.createdAt, missing: missingReports(order) });
    }
    await saveStagedSagaStates(tx);
    return cancelled;
  });
}

/** user-registration: remember the user, so that their orders are accepted without asking user-svc. */
export async function rememberUser(tx: Transaction, registration: UserRegistered): Promise<void> {
  await insertKnownUser(tx, {
    id: registration.userId,
    username: registration.username,
    email: registration.email,
    fullName: registration.fullName,
    registeredAt: new Date(registration.registeredAt),
  });
}

/** user-updated: follow the user's change (a disabled user's new orders are refused). */
export async function followUser(tx: Transaction, update: UserUpdated): Promise<void> {
  await upsertKnownUser(tx, {
    id: update.userId,
    username: update.after.username,
    email: update.after.email,
    fullName: update.after.fullName,
    disabled: update.after.disabled,
    version: update.after.version,
    // Only used when the update arrives before the registration; the registration's own time is not in it.
    registeredAt: new Date(update.updatedAt),
  });
}

const currency = new RegExp(CURRENCY_PATTERN);

/**
 * product-update: remember the product's price and state, unless a newer version is already
 * known. A price product-svc would not take is refused here (the event is dead-lettered), not
 * stored to fail every order placed at it.
 */
export async function rememberProduct(tx: Transaction, update: ProductUpdated): Promise<void> {
  // Prices of products created before MIN_PRICE_CENTS was 1 may be 0; their orders fail at the gateway.
  if (
    !Number.isSafeInteger(update.priceCents) ||
    update.priceCents < 0 ||
    update.priceCents > MAX_PRICE_CENTS ||
    !currency.test(update.currency)
  )
    throw new Error(
      `product ${update.productId} version ${update.version}: ${update.priceCents} ${update.currency} is no price orders can be placed at`,
    );
  await upsertCatalogEntry(tx, update);
}
