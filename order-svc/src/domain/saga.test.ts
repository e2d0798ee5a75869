import { describe, expect, it } from 'vitest';
import { applyReport, missingReports, type SagaReport, type SagaState } from './saga.ts';

const pending: SagaState = { status: 'PENDING', cancelReason: null, paymentOutcome: null, inventoryOutcome: null };
const run = (...reports: SagaReport[]) => reports.reduce(applyReport, pending);
const deadline: SagaReport = { deadline: 'PASSED' };

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

describe('the deadline', () => {
  it('cancels a PENDING order TIMED_OUT, whichever reports are missing', () => {
    expect(run(deadline)).toMatchObject({ status: 'CANCELLED', cancelReason: 'TIMED_OUT' });
    expect(run({ payment: 'SUCCEEDED' }, deadline)).toMatchObject({ status: 'CANCELLED', cancelReason: 'TIMED_OUT' });
    expect(run({ inventory: 'RESERVED' }, deadline)).toMatchObject({ status: 'CANCELLED', cancelReason: 'TIMED_OUT' });
  });

  it('changes nothing for an order that is final already', () => {
    const confirmed = run({ payment: 'SUCCEEDED' }, { inventory: 'RESERVED' });
    expect(applyReport(confirmed, deadline)).toEqual(confirmed);
    const declined = run({ payment: 'CARD_DECLINED' });
    expect(applyReport(declined, deadline)).toEqual(declined);
  });

  it('is final: late reports after TIMED_OUT are recorded but decide nothing', () => {
    const timedOut = run({ inventory: 'RESERVED' }, deadline);
    expect(applyReport(timedOut, { payment: 'SUCCEEDED' })).toEqual({
      status: 'CANCELLED',
      cancelReason: 'TIMED_OUT',
      paymentOutcome: 'SUCCEEDED',
      inventoryOutcome: 'RESERVED',
    });
    expect(run(deadline, { payment: 'CARD_DECLINED' }, { inventory: 'REJECTED' })).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'TIMED_OUT',
    });
  });

  it('names the reports an order is still waiting for', () => {
    expect(missingReports(pending)).toEqual(['payment', 'inventory']);
    expect(missingReports(run({ payment: 'SUCCEEDED' }))).toEqual(['inventory']);
    expect(missingReports(run({ inventory: 'RESERVED' }))).toEqual(['payment']);
    expect(missingReports(run({ payment: 'SUCCEEDED' }, { inventory: 'RESERVED' }))).toEqual([]);
  });
});

describe('a cancellation asked for by the customer or an admin', () => {
  const customer: SagaReport = { cancel: 'CUSTOMER_CANCELLED' };

  it('cancels a PENDING order, whatever has been reported so far', () => {
    expect(run(customer)).toMatchObject({ status: 'CANCELLED', cancelReason: 'CUSTOMER_CANCELLED' });
    expect(run({ payment: 'SUCCEEDED' }, customer)).toMatchObject({ status: 'CANCELLED', paymentOutcome: 'SUCCEEDED' });
    expect(run({ inventory: 'RESERVED' }, { cancel: 'ADMIN_CANCELLED' })).toMatchObject({ cancelReason: 'ADMIN_CANCELLED' });
  });

  it('cancels a CONFIRMED order', () => {
    expect(run({ payment: 'SUCCEEDED' }, { inventory: 'RESERVED' }, customer)).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'CUSTOMER_CANCELLED',
    });
  });

  it('changes nothing once the order is cancelled, by whoever or whatever', () => {
    expect(run({ inventory: 'REJECTED' }, customer)).toMatchObject({ status: 'CANCELLED', cancelReason: 'OUT_OF_STOCK' });
    expect(run(customer, { cancel: 'ADMIN_CANCELLED' }).cancelReason).toBe('CUSTOMER_CANCELLED');
    expect(run(customer, deadline).cancelReason).toBe('CUSTOMER_CANCELLED');
  });

  it('wins over the reports that arrive after it: they are recorded, the order stays cancelled', () => {
    const late = run(customer, { payment: 'SUCCEEDED' }, { inventory: 'RESERVED' });
    expect(late).toMatchObject({ status: 'CANCELLED', paymentOutcome: 'SUCCEEDED', inventoryOutcome: 'RESERVED' });
  });
});
