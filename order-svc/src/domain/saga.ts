export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';
export type CancelReason = 'PAYMENT_DECLINED' | 'OUT_OF_STOCK' | 'PAYMENT_ERROR';
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

export type SagaReport = { payment: PaymentOutcome } | { inventory: InventoryOutcome };

/**
 * The order's state machine, as a pure function: what the order becomes when payment-svc or
 * product-svc reports. PENDING turns CANCELLED as soon as either side failed (the first failure
 * names the reason) and CONFIRMED once both succeeded; a final order never changes again, so
 * a late, repeated or out-of-order report cannot undo a decision.
 */
export function applyReport(state: SagaState, report: SagaReport): SagaState {
  // The first report of each side is the one that counts.
  const next: SagaState = {
    ...state,
    paymentOutcome: state.paymentOutcome ?? ('payment' in report ? report.payment : null),
    inventoryOutcome: state.inventoryOutcome ?? ('inventory' in report ? report.inventory : null),
  };
  if (state.status !== 'PENDING') return next;
  if (next.paymentOutcome === 'CARD_DECLINED') return { ...next, status: 'CANCELLED', cancelReason: 'PAYMENT_DECLINED' };
  if (next.paymentOutcome === 'PAYMENT_ERROR') return { ...next, status: 'CANCELLED', cancelReason: 'PAYMENT_ERROR' };
  if (next.inventoryOutcome === 'REJECTED') return { ...next, status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' };
  if (next.paymentOutcome === 'SUCCEEDED' && next.inventoryOutcome === 'RESERVED') return { ...next, status: 'CONFIRMED' };
  return next;
}
