// patches/kafkajs+2.2.4.patch: kafkajs 2.2.4 rescheduled its pending-request check with a
// negative delay whenever nothing was pending, so every broker connection ran a 1 ms timer
// loop for as long as it lived (tulios/kafkajs#1556, #1704): 4-5% of a core per idle service on
// this project's machines. With the patch an idle queue schedules nothing, and a request that
// has to wait (throttled by the broker) is still sent when the wait is over.
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

interface WaitingRequest {
  correlationId: number;
  expectResponse: boolean;
  send: () => void;
  completed: () => void;
}
interface RequestQueue {
  pending: WaitingRequest[];
  throttledUntil: number;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
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
});
