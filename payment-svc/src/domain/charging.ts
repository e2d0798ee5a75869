// The charge dispatcher: asks the gateway for the charges that order-placed committed pending,
// outside any database transaction. It claims due payments from the table (so a charge is
// asked after a crash as surely as now), makes their calls side by side, and records the
// answers as they come, those of calls ending together in one transaction. The consumer wakes
// it after each commit; its tick finds the charges whose next try has come.
import { currentTraceparent, inSpan, ORDER_ID_ATTRIBUTE, withTraceparent, type Logger, type Sql, type Transaction } from '@shop/kit';
import { claimDueCharges, lockStillClaimed, saveStagedChargeOutcomes } from '../data-access/payments-repository.ts';
import { chargeVerdict, type ChargeVerdict } from './gateway-answers.ts';
import {
  askUntilDefinite,
  burstBoundMs,
  chargeRequest,
  recordChargeVerdict,
  type PaymentRow,
  type PaymentsDependencies,
} from './payments.ts';

/** Where order-placed leaves the trace its charge continues (the handler's span). */
export interface ChargeTraces {
  remember(orderId: string): void;
}

export interface ChargeDispatcherOptions extends PaymentsDependencies {
  sql: Sql;
  logger: Logger;
  /** Gateway calls in flight at most: what the processor is asked to take from one client at once. */
  callsInFlight: number;
  /** How often due charges are looked for when nothing wakes the dispatcher (retries come due). */
  everyMs: number;
}

/** A claimed charge's answer, waiting to be recorded with the others that came in meanwhile. */
export interface Answer {
  payment: PaymentRow;
  verdict: ChargeVerdict;
  traceparent: string | null;
  recorded: () => void;
  failed: (error: unknown) => void;
}

/** Traces kept for orders not claimed here yet; beyond this (another instance claimed them), the oldest are forgotten. */
const REMEMBERED_TRACES = 10_000;

/**
 * The answers of claimed charges, recorded. A claim whose payment changed meanwhile (the order
 * was cancelled and is being settled, or another claim's answer was recorded first) is
 * dropped: the gateway answers the same key the same way, so nothing is lost. A payment
 * answered twice in the batch (claimed again while the first answer was being recorded)
 * counts once.
 */
export async function recordAnswers(tx: Transaction, dependencies: PaymentsDependencies, answers: Answer[]): Promise<void> {
  const stillClaimed = await lockStillClaimed(
    tx,
    answers.map(({ payment }) => payment),
  );
  for (const { payment, verdict, traceparent } of answers) {
    if (!stillClaimed.delete(payment.id)) continue;
    // Each answer's event belongs to its order's trace, not to the batch's first.
    await withTraceparent(traceparent, () => recordChargeVerdict(tx, dependencies, payment, verdict));
  }
  await saveStagedChargeOutcomes(tx);
}

export class ChargeDispatcher implements ChargeTraces {
  readonly #options: ChargeDispatcherOptions;
  /** The trace of each order whose payment was committed pending here, until its charge is decided. */
  readonly #traces = new Map<string, string>();
  readonly #charging = new Set<Promise<void>>();
  #inFlight = 0;
  /** The last claim took every free slot: more may be due, so a call that ends wakes the loop. */
  #full = false;
  #woken = false;
  #wake: (() => void) | undefined;
  #answers: Answer[] = [];
  #recording = false;

  constructor(options: ChargeDispatcherOptions) {
    this.#options = options;
  }

  /** Called in order-placed's span: the charge made after the commit continues its trace. */
  remember(orderId: string): void {
    const traceparent = currentTraceparent();
    if (!traceparent) return;
    if (this.#traces.size >= REMEMBERED_TRACES) this.#traces.delete(this.#traces.keys().next().value!);
    this.#traces.set(orderId, traceparent);
  }

  /** New pending charges were committed: claim them now rather than at the next tick. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Claims and charges until the signal aborts; then waits for the calls in flight and their answers' transactions. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        this.#woken = false;
        const free = this.#options.callsInFlight - this.#inFlight;
        this.#full = free <= 0;
        if (free > 0) {
          const claimed = await claimDueCharges(this.#options.sql, free, burstBoundMs(this.#options.retry));
          this.#full = claimed.length === free;
          for (const payment of claimed) this.#charge(payment);
        }
        if (!this.#woken) await this.#nap(signal);
      }
    } finally {
      await Promise.all(this.#charging);
    }
  }

  #charge(payment: PaymentRow): void {
    const { gateway, retry, logger } = this.#options;
    // The first try gets the quick burst an answer like a 503 deserves; a retry, one call (its
    // backoff between tries is the patience).
    const calls = payment.attempts === 0 ? retry.quickAttempts : 1;
    this.#inFlight += 1;
    const attributes = { [ORDER_ID_ATTRIBUTE]: payment.orderId, 'shop.payment.attempt': payment.attempts + 1 };
    const charging = withTraceparent(this.#traces.get(payment.orderId), () =>
      inSpan('charge', { attributes }, async () => {
        // The token is kept while the charge is pending (a CHECK constraint says so).
        const request = chargeRequest(payment, payment.paymentToken!);
        const verdict = await askUntilDefinite(retry, calls, async () => chargeVerdict(await gateway.charge(request)));
        await this.#record(payment, verdict);
        if (verdict.kind !== 'unknown') this.#traces.delete(payment.orderId);
      }),
    )
      .catch((error: unknown) => {
        // The claim lapses (burstBoundMs) and the charge is asked again under its key.
        logger.warn(
          { err: error, orderId: payment.orderId },
          "recording a charge's answer failed; it is asked again once its claim lapses",
        );
      })
      .finally(() => {
        this.#inFlight -= 1;
        this.#charging.delete(charging);
        if (this.#full) this.wake();
      });
    this.#charging.add(charging);
  }

  /** Resolves once the answer is committed, with those that came in while the last transaction ran. */
  #record(payment: PaymentRow, verdict: ChargeVerdict): Promise<void> {
    return new Promise((recorded, failed) => {
      this.#answers.push({ payment, verdict, traceparent: currentTraceparent(), recorded, failed });
      if (!this.#recording) void this.#recordWaiting();
    });
  }

  async #recordWaiting(): Promise<void> {
    this.#recording = true;
    while (this.#answers.length > 0) {
      const answers = this.#answers.splice(0);
      try {
        await this.#options.sql.begin((tx) => recordAnswers(tx, this.#options, answers));
        for (const answer of answers) answer.recorded();
      } catch (error) {
        for (const answer of answers) answer.failed(error);
      }
    }
    // No await between the last look at the queue and this: an answer pushed after it starts a new round.
    this.#recording = false;
  }

  /** Until woken, the tick, or the signal. */
  #nap(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.#options.everyMs);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }
}
