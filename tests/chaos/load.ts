// The steady order load of `make chaos`: a fixed rate of POST /orders from many customers on a
// few products, some with contested stock, paid with a mix of card tokens. Every intended
// order has its own Idempotency-Key and is retried under that key until it gets an answer, so
// an order whose 202 was lost to a fault is found again instead of being placed twice.
import { randomUUID } from 'node:crypto';
import { postOrder, type Customer } from '../harness/client.ts';
import type { Random } from './random.ts';

export const PAYMENT_TOKENS = [
  { token: 'tok_ok', weight: 0.7 },
  { token: 'tok_decline', weight: 0.15 },
  { token: 'tok_flaky', weight: 0.15 },
] as const;

export interface OrderAttempt {
  idempotencyKey: string;
  customer: Customer;
  items: { productId: string; quantity: number }[];
  paymentToken: string;
  firstSentAt: number;
  /** Set once a 202 arrived. */
  orderId?: string;
  acceptedAt?: number;
  /** Answers other than 202 (status or network error), in order. */
  failures: string[];
  outcome: 'pending' | 'accepted' | 'refused' | 'unanswered';
}

export interface LoadSettings {
  ratePerSecond: number;
  /** How long one intended order is retried before it counts as unanswered. */
  retryForMs: number;
}

export class OrderLoad {
  readonly attempts: OrderAttempt[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly settings: LoadSettings;
  private readonly customers: Customer[];
  private readonly productIds: string[];
  private readonly random: Random;

  constructor(settings: LoadSettings, customers: Customer[], productIds: string[], random: Random) {
    this.settings = settings;
    this.customers = customers;
    this.productIds = productIds;
    this.random = random;
  }

  start(): void {
    // Open loop: a new order every interval, whether or not earlier ones have been answered.
    this.timer = setInterval(() => this.placeOne(), 1000 / this.settings.ratePerSecond);
  }

  /** Stops offering new orders and waits for the ones in flight to be answered or given up. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  get accepted(): OrderAttempt[] {
    return this.attempts.filter((a) => a.outcome === 'accepted');
  }

  private placeOne(): void {
    const lines = this.random.int(1, 2);
    const productIds = this.random.sample(this.productIds, lines);
    const attempt: OrderAttempt = {
      idempotencyKey: randomUUID(),
      customer: this.random.pick(this.customers),
      items: productIds.map((productId) => ({ productId, quantity: this.random.int(1, 3) })),
      paymentToken: this.random.weighted(PAYMENT_TOKENS).token,
      firstSentAt: Date.now(),
      failures: [],
      outcome: 'pending',
    };
    this.attempts.push(attempt);
    const done = this.send(attempt).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async send(attempt: OrderAttempt): Promise<void> {
    const body = { items: attempt.items, paymentToken: attempt.paymentToken };
    const deadline = attempt.firstSentAt + this.settings.retryForMs;
    for (let retry = 0; ; retry++) {
      try {
        const response = await postOrder(attempt.customer, body, attempt.idempotencyKey, 10_000);
        if (response.status === 202) {
          Object.assign(attempt, { outcome: 'accepted', orderId: response.body.id, acceptedAt: Date.now() });
          return;
        }
        attempt.failures.push(`${response.status} ${response.body.code ?? ''}`.trim());
        // A 4xx other than these is a verdict on the request: retrying cannot change it.
        if (response.status < 500 && response.status !== 429 && response.status !== 408) {
          attempt.outcome = 'refused';
          return;
        }
      } catch (error) {
        attempt.failures.push(
          error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error),
        );
      }
      if (Date.now() > deadline) {
        attempt.outcome = 'unanswered';
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** retry)));
    }
  }
}
