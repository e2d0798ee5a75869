export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';
export type CancelReason = 'PAYMENT_DECLINED' | 'OUT_OF_STOCK' | 'PAYMENT_ERROR' | 'TIMED_OUT' | 'CUSTOMER_CANCELLED' | 'ADMIN_CANCELLED';
/** Who asked for a cancellation: the order's customer, or an admin. */
export type CancelRequest = 'CUSTOMER_CANCELLED' | 'ADMIN_CANCELLED';
/** What payment-svc reported. */
export type PaymentOutcome = 'SUCCEEDED' | 'CARD_DECLINED' | 'PAYMENT_ERROR';
/** What product-svc reported. */
export type InventoryOutcome = 'RESERVED' | 'REJECTED';

export interface SagaState {
  status: OrderStatus;
  cancelReason: CancelReason | null;
  paymentOutcome: PaymentOutcome | null;
  inventoryOutcome: InventoryOutcome | null;
}

/**
 * What moves an order: a report of payment-svc or product-svc, its deadline passing with the
 * order still PENDING (a step was dead-lettered or never answered), or a cancellation asked
 * for by its customer or an admin.
 */
export type SagaReport = { payment: PaymentOutcome } | { inventory: InventoryOutcome } | { deadline: 'PASSED' } | { cancel: CancelRequest };

/** The sides whose report an order is still waiting for. */
export type SagaSide = 'payment' | 'inventory';

/**
 * The order's state machine, as a pure function: what the order becomes when payment-svc or
 * product-svc reports, when its deadline passes, or when someone cancels it. PENDING turns
 * CANCELLED as soon as either side failed (the first failure names the reason), the deadline
 * passed before both succeeded (TIMED_OUT) or a cancellation was asked for, and CONFIRMED
 * once both succeeded. A CONFIRMED order can still be cancelled on request (payment-svc then
 * refunds and product-svc releases); a CANCELLED order never changes again, so a late,
 * repeated or out-of-order report cannot undo a decision.
 */
export function applyReport(state: SagaState, report: SagaReport): SagaState {
  // The first report of each side is the one that counts; a late one is still kept, so an
  // operator can see that a timed-out order was charged or reserved after all.
  const next: SagaState = {
    ...state,
    paymentOutcome: state.paymentOutcome ?? ('payment' in report ? report.payment : null),
    inventoryOutcome: state.inventoryOutcome ?? ('inventory' in report ? report.inventory : null),
  };
  if ('cancel' in report) return isCancellable(state) ? { ...next, status: 'CANCELLED', cancelReason: report.cancel } : next;
  if (state.status !== 'PENDING') return next;
  if (next.paymentOutcome === 'CARD_DECLINED') return { ...next, status: 'CANCELLED', cancelReason: 'PAYMENT_DECLINED' };
  if (next.paymentOutcome === 'PAYMENT_ERROR') return { ...next, status: 'CANCELLED', cancelReason: 'PAYMENT_ERROR' };
  if (next.inventoryOutcome === 'REJECTED') return { ...next, status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' };
  if (next.paymentOutcome === 'SUCCEEDED' && next.inventoryOutcome === 'RESERVED') return { ...next, status: 'CONFIRMED' };
  if ('deadline' in report) return { ...next, status: 'CANCELLED', cancelReason: 'TIMED_OUT' };
  return next;
}

/** Whether a customer or an admin may still cancel the order: until it is cancelled. */
export const isCancellable = (state: Pick<SagaState, 'status'>): boolean => state.status !== 'CANCELLED';

/** The sides that have not reported yet: what a timed-out order was waiting for. */
export function missingReports(state: SagaState): SagaSide[] {
  const missing: SagaSide[] = [];
  if (state.paymentOutcome === null) missing.push('payment');
  if (state.inventoryOutcome === null) missing.push('inventory');
  return missing;
}
