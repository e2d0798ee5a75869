import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, DependencyUnavailable } from '@shop/kit';

export interface GatewaySettings {
  url: string;
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
}

export type ChargeOutcome =
  { kind: 'charged'; chargeId: string } | { kind: 'declined'; detail: string } | { kind: 'error'; detail: string };

export interface LedgerCharge {
  id: string;
  status: 'SUCCEEDED' | 'DECLINED';
  refunds: { id: string }[];
}

interface Answer {
  status: number;
  body: { id?: string; code?: string; detail?: string } & Record<string, unknown>;
}

/**
 * The card processor's HTTP API (the simulator on 3005). Every charge and refund carries an
 * idempotency key derived from the order, so asking again (after a timeout, a crash, a
 * redelivery) can never charge or refund twice.
 */
export class GatewayClient {
  private readonly settings: GatewaySettings;

  constructor(settings: GatewaySettings) {
    this.settings = settings;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: object): Promise<Answer> {
    const response = await fetch(`${this.settings.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.settings.timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Answer['body'] };
  }

  /**
   * Charges once; transient failures (5xx, no answer) are retried with backoff up to the
   * configured attempts, after which the outcome is an error (the order's PAYMENT_ERROR).
   */
  async charge(charge: {
    amountCents: number;
    currency: string;
    token: string;
    reference: string;
    idempotencyKey: string;
  }): Promise<ChargeOutcome> {
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.settings.maxAttempts; attempt++) {
      try {
        const answer = await this.request('POST', '/charges', charge);
        if (answer.status === 200 || answer.status === 201) return { kind: 'charged', chargeId: String(answer.body.id) };
        if (answer.status === 402) return { kind: 'declined', detail: answer.body.detail ?? 'declined' };
        if (answer.status === 400 && answer.body.code === 'INVALID_TOKEN')
          return { kind: 'declined', detail: answer.body.detail ?? 'invalid card token' };
        if (answer.status < 500) return { kind: 'error', detail: `gateway answered ${answer.status} ${answer.body.code ?? ''}`.trim() };
        lastProblem = `gateway answered ${answer.status} ${answer.body.code ?? ''}`.trim();
      } catch (error) {
        lastProblem = `gateway unreachable: ${(error as Error).message}`;
      }
      if (attempt < this.settings.maxAttempts) await sleep(backoffDelay(attempt, { baseMs: this.settings.retryBaseMs, maxMs: 5_000 }));
    }
    return { kind: 'error', detail: `${lastProblem} (after ${this.settings.maxAttempts} attempts)` };
  }

  /** Refunds a charge in full; an unavailable gateway is an outage to wait out, not a failure. */
  async refund(chargeId: string, idempotencyKey: string): Promise<string> {
    const answer = await this.call('POST', '/refunds', { chargeId, idempotencyKey });
    if (answer.status === 200 || answer.status === 201) return String(answer.body.id);
    throw new Error(
      `the gateway refused the refund of ${chargeId}: ${answer.status} ${answer.body.code ?? ''} ${answer.body.detail ?? ''}`,
    );
  }

  /** What the gateway's ledger holds for a reference (an order id). */
  async chargesOf(reference: string): Promise<LedgerCharge[]> {
    const response = await this.call('GET', `/charges?reference=${encodeURIComponent(reference)}`);
    if (response.status !== 200) throw new Error(`the gateway's ledger answered ${response.status}`);
    return response.body as unknown as LedgerCharge[];
  }

  private async call(method: 'GET' | 'POST', path: string, body?: object): Promise<Answer> {
    let answer: Answer;
    try {
      answer = await this.request(method, path, body);
    } catch (error) {
      throw new DependencyUnavailable(`the payment gateway is unreachable: ${(error as Error).message}`);
    }
    if (answer.status >= 500) throw new DependencyUnavailable(`the payment gateway answered ${answer.status}`);
    return answer;
  }
}
