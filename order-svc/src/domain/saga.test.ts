import { describe, expect, it } from 'vitest';
import { applyReport, type SagaReport, type SagaState } from './saga.ts';

const pending: SagaState = { status: 'PENDING', cancelReason: null, paymentOutcome: null, inventoryOutcome: null };
const run = (...reports: SagaReport[]) => reports.reduce(applyReport, pending);

describe('the order state machine', () => {
  it('confirms once both sides succeeded, in either order', () => {
    expect(run({ payment: 'SUCCEEDED' }).status).toBe('PENDING');
    expect(run({ payment: 'SUCCEEDED' }, { inventory: 'RESERVED' }).status).toBe('CONFIRMED');
    expect(run({ inventory: 'RESERVED' }, { payment: 'SUCCEEDED' }).status).toBe('CONFIRMED');
  });

  it('cancels as soon as either side failed, with that side’s reason', () => {
    expect(run({ payment: 'CARD_DECLINED' })).toMatchObject({ status: 'CANCELLED', cancelReason: 'PAYMENT_DECLINED' });
    expect(run({ payment: 'PAYMENT_ERROR' })).toMatchObject({ status: 'CANCELLED', cancelReason: 'PAYMENT_ERROR' });
    expect(run({ inventory: 'REJECTED' })).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
  });

  it('keeps the reason of the first failure when both fail', () => {
    expect(run({ inventory: 'REJECTED' }, { payment: 'CARD_DECLINED' }).cancelReason).toBe('OUT_OF_STOCK');
    expect(run({ payment: 'CARD_DECLINED' }, { inventory: 'REJECTED' }).cancelReason).toBe('PAYMENT_DECLINED');
  });

  it('never changes a final order, whatever arrives late', () => {
    const confirmed = run({ payment: 'SUCCEEDED' }, { inventory: 'RESERVED' });
    expect(applyReport(confirmed, { inventory: 'REJECTED' })).toMatchObject({ status: 'CONFIRMED', cancelReason: null });
    const cancelled = run({ inventory: 'REJECTED' }, { payment: 'SUCCEEDED' });
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK', paymentOutcome: 'SUCCEEDED' });
  });

  it('counts the first report of each side; a repeat cannot overwrite it', () => {
    expect(run({ payment: 'SUCCEEDED' }, { payment: 'CARD_DECLINED' }).paymentOutcome).toBe('SUCCEEDED');
  });
});
