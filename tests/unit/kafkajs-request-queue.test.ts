// patches/kafkajs+2.2.4.patch: kafkajs 2.2.4 rescheduled its pending-request check with a
// negative delay whenever nothing was pending, so every broker connection ran a 1 ms timer
// loop for as long as it lived (tulios/kafkajs#1556, #1704): 4-5% of a core per idle service on
// this project's machines. With the patch an idle queue schedules nothing, and a request that
// has to wait (throttled by the broker) is still sent when the wait is over. It also checked
// every connection's requests for their timeout on a 100 ms interval, in flight or not (40
// wake-ups a second per idle service); the check is now one timer, for the earliest deadline
// of the requests in flight.
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

interface WaitingRequest {
  correlationId: number;
  expectResponse: boolean;
  send: () => void;
  completed: () => void;
}
interface RequestEntry {
  correlationId: number;
  apiName: string;
  apiKey: number;
  apiVersion: number;
  resolve: (response: unknown) => void;
  reject: (error: Error) => void;
}
interface RequestQueue {
  pending: WaitingRequest[];
  throttledUntil: number;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
  push(request: { entry: RequestEntry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
}
type RequestQueueClass = new (options: Record<string, unknown>) => RequestQueue;

// An internal module, without types: what the patch changes is only reachable here.
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function newQueue(): RequestQueue {
  return new RequestQueue({
    maxInFlightRequests: 5,
    requestTimeout: 30_000,
    enforceRequestTimeout: true,
    clientId: 'test',
    broker: '127.0.0.1:9092',
    logger: silent,
  });
}

describe('kafkajs request queue (patched)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('schedules nothing when nothing is pending, as after every response', () => {
    const queue = newQueue();
    queue.checkPendingRequests();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends a request that waited out a throttle once the throttle is over', () => {
    const queue = newQueue();
    const send = vi.fn();
    queue.throttledUntil = Date.now() + 100;
    queue.pending.push({ correlationId: 1, expectResponse: false, send, completed: () => undefined });
    queue.scheduleCheckPendingRequests();
    expect(vi.getTimerCount()).toBe(1);

    vi.advanceTimersByTime(99);
    expect(send).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(send).toHaveBeenCalledOnce();
    expect(queue.pending).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  /** A request sent through the queue, as a connection sends it, and what became of it. */
  function sendRequest(queue: RequestQueue, correlationId: number) {
    const outcome: { response?: unknown; error?: Error } = {};
    queue.push({
      entry: {
        correlationId,
        apiName: 'Fetch',
        apiKey: 1,
        apiVersion: 11,
        resolve: (response) => (outcome.response = response),
        reject: (error) => (outcome.error = error),
      },
      expectResponse: true,
      sendRequest: () => undefined,
    });
    return outcome;
  }

  it('keeps no timer for request timeouts while nothing is in flight', () => {
    const queue = newQueue();
    queue.scheduleRequestTimeoutCheck();
    expect(vi.getTimerCount()).toBe(0);

    sendRequest(queue, 1);
    expect(vi.getTimerCount()).toBe(1);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    // The timer set for that request's deadline finds nothing left and sets no other.
    vi.advanceTimersByTime(30_001);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('times out a request that gets no answer at its deadline, not before', () => {
    const queue = newQueue();
    queue.scheduleRequestTimeoutCheck();
    const first = sendRequest(queue, 1);
    vi.advanceTimersByTime(10_000);
    const second = sendRequest(queue, 2);

    vi.advanceTimersByTime(20_000);
    expect(first.error).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(first.error?.name).toBe('KafkaJSRequestTimeoutError');
    expect(second.error).toBeUndefined();
    // One timer at a time: now the second request's deadline.
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(second.error?.name).toBe('KafkaJSRequestTimeoutError');
    expect(vi.getTimerCount()).toBe(0);
  });
});
