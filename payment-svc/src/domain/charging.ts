// The charge dispatcher: asks the gateway for the charges that order-placed committed pending,
// outside any database transaction. The consumer's transaction inserts each payment claimed by
// this process and hands it over once committed; the dispatcher's tick claims the pending
// charges whose next try has come, or whose claim lapsed (a process died with its calls in
// flight). Calls run side by side, 64 at most, and the answers of calls that end together are
// recorded in one statement.
import { currentTraceparent, inSpan, ORDER_ID_ATTRIBUTE, withTraceparent, type Logger, type Sql, type Transaction } from '@shop/kit';
import { claimDueCharges, saveClaimAnswers, type ClaimAnswer } from '../data-access/payments-repository.ts';
import { chargeVerdict } from './gateway-answers.ts';
import {
  askUntilDefinite,
  chargeRequest,
  claimAnswer,
  claimedUntil,
  mayStillAsk,
  type PaymentRow,
  type PaymentsDependencies,
} from './payments.ts';

/** Where order-placed leaves the charge its transaction claimed, to be asked once that has committed. */
export interface ClaimedCharges {
  claimed(payment: PaymentRow): void;
}

export interface ChargeDispatcherOptions extends PaymentsDependencies {
  sql: Sql;
  logger: Logger;
  /** Gateway calls in flight at most: what the processor is asked to take from one client at once. */
  callsInFlight: number;
  /** How often due charges are looked for in the table (retries come due, claims lapse). */
  everyMs: number;
}

/** A claimed charge, with the trace it continues (order-placed's, when it was claimed by the consumer). */
interface Claim {
  payment: PaymentRow;
  traceparent: string | null;
}

/** A claimed charge's answer, waiting to be recorded with the others that came in meanwhile. */
interface WaitingAnswer {
  answer: ClaimAnswer;
  recorded: () => void;
  failed: (error: unknown) => void;
}

/** Claims of transactions not known to have committed (a batch rolled back and retried leaves some): the oldest are forgotten beyond this. */
const UNCOMMITTED_CLAIMS = 10_000;

/**
 * Claimed charges' answers, recorded in one statement (see saveClaimAnswers: what a claim no
 * longer holds is left alone). A payment answered twice (claimed again while its first answer
 * was waiting to be recorded) counts once.
 */
export async function recordAnswers(sql: Sql | Transaction, answers: ClaimAnswer[]): Promise<void> {
  const once = [...new Map(answers.map((answer) => [answer.paymentId, answer])).values()];
  await saveClaimAnswers(sql, once);
}

export class ChargeDispatcher implements ClaimedCharges {
  readonly #options: ChargeDispatcherOptions;
  /** Claims made by the consumer's open transactions, by order, until they are known to have committed. */
  readonly #uncommitted = new Map<string, Claim>();
  /** Claims waiting for a free slot, oldest first. */
  readonly #ready: Claim[] = [];
  readonly #charging = new Set<Promise<void>>();
  /** The last look at the table found more due than there were slots: a call that ends wakes the loop. */
  #backlog = false;
  #wake: (() => void) | undefined;
  #answers: WaitingAnswer[] = [];
  #recording = false;
  /** Once the service closes, what the consumer still commits is left to lapse, and is claimed again after a restart. */
  #stopped = false;

  constructor(options: ChargeDispatcherOptions) {
    this.#options = options;
  }

  /** Called in order-placed's handler, in its span: the charge continues its trace. */
  claimed(payment: PaymentRow): void {
    if (this.#uncommitted.size >= UNCOMMITTED_CLAIMS) this.#uncommitted.delete(this.#uncommitted.keys().next().value!);
    this.#uncommitted.set(payment.orderId, { payment, traceparent: currentTraceparent() });
  }

  /** The consumer committed these orders' placements: their claims are asked now. */
  committed(orderIds: string[]): void {
    if (this.#stopped) return;
    for (const orderId of orderIds) {
      const claim = this.#uncommitted.get(orderId);
      if (!claim) continue;
      this.#uncommitted.delete(orderId);
      this.#ready.push(claim);
    }
    this.#startReady();
  }

  /** Claims due charges from the table until the signal aborts; then waits for the calls in flight and their answers' transactions. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        const free = this.#options.callsInFlight - this.#charging.size - this.#ready.length;
        this.#backlog = free <= 0;
        if (free > 0) {
          const claimed = await claimDueCharges(this.#options.sql, free, claimedUntil(this.#options.retry));
          this.#backlog = claimed.length === free;
          // A retry starts a trace of its own: the order's is not kept past its first try here.
          this.#ready.push(...claimed.map((payment) => ({ payment, traceparent: null })));
          this.#startReady();
        }
        await this.#nap(signal);
      }
    } finally {
      this.#stopped = true;
      this.#ready.length = 0;
      await Promise.all(this.#charging);
    }
  }

  /** Starts the ready claims there are slots for; a claim that waited too long to end its calls before it lapses is left to lapse. */
  #startReady(): void {
    while (this.#charging.size < this.#options.callsInFlight && this.#ready.length > 0) {
      const claim = this.#ready.shift()!;
      if (mayStillAsk(this.#options.retry, claim.payment)) this.#charge(claim);
    }
  }

  #charge({ payment, traceparent }: Claim): void {
    const { gateway, retry, logger } = this.#options;
    // The first try gets the quick burst an answer like a 503 deserves; a retry, one call (its
    // backoff between tries is the patience).
    const calls = payment.attempts === 0 ? retry.quickAttempts : 1;
    const attributes = { [ORDER_ID_ATTRIBUTE]: payment.orderId, 'shop.payment.attempt': payment.attempts + 1 };
    const charging = withTraceparent(traceparent, () =>
      inSpan('charge', { attributes }, async () => {
        // The token is kept while the charge is pending (a CHECK constraint says so).
        const request = chargeRequest(payment, payment.paymentToken!);
        const verdict = await askUntilDefinite(retry, calls, async () => chargeVerdict(await gateway.charge(request)));
        // The answer's event is encoded here, in the charge's span, whose trace it continues.
        await this.#record(await claimAnswer(this.#options, payment, verdict));
      }),
    )
      .catch((error: unknown) => {
        // The claim lapses and the charge is asked again under its key.
        logger.warn(
          { err: error, orderId: payment.orderId },
          "recording a charge's answer failed; it is asked again once its claim lapses",
        );
      })
      .finally(() => {
        this.#charging.delete(charging);
        this.#startReady();
        if (this.#backlog) this.#wake?.();
      });
    this.#charging.add(charging);
  }

  /** Resolves once the answer is written, with those that came in while the last write ran. */
  #record(answer: ClaimAnswer): Promise<void> {
    return new Promise((recorded, failed) => {
      this.#answers.push({ answer, recorded, failed });
      if (!this.#recording) void this.#recordWaiting();
    });
  }

  async #recordWaiting(): Promise<void> {
    this.#recording = true;
    while (this.#answers.length > 0) {
      const waiting = this.#answers.splice(0);
      try {
        await recordAnswers(
          this.#options.sql,
          waiting.map(({ answer }) => answer),
        );
        for (const { recorded } of waiting) recorded();
      } catch (error) {
        for (const { failed } of waiting) failed(error);
      }
    }
    // No await between the last look at the queue and this: an answer pushed after it starts a new round.
    this.#recording = false;
  }

  /** Until the tick, a slot freed while there is a backlog, or the signal. */
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
