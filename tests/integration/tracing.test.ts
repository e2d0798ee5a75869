// One order, one trace: read back from Zipkin's API, the order's trace holds spans of
// order-svc, payment-svc, product-svc and gateway-sim (and notification-svc's mail) under one
// trace id, each hop a descendant of the one that caused it, through the outbox and CDC: the
// POST, order-placed published, consumed by payment-svc (which calls the gateway) and
// product-svc, their reports consumed by order-svc, order-confirmed published and consumed.
import { describe, expect, it } from 'vitest';
import { requireEnv } from '@shop/kit';
import { adminToken, newCustomer } from '../harness/http.ts';
import { createProduct, finalOrder, placeOrder, until } from '../harness/shop.ts';

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  timestamp: number;
  duration?: number;
  localEndpoint: { serviceName: string };
  tags?: Record<string, string>;
}

const zipkin = requireEnv('ZIPKIN_URL');

async function tracesOf(orderId: string): Promise<ZipkinSpan[][]> {
  const query = new URLSearchParams({ annotationQuery: `shop.order_id=${orderId}`, lookback: '3600000', limit: '10' });
  const response = await fetch(`${zipkin}/api/v2/traces?${query.toString()}`);
  return (await response.json()) as ZipkinSpan[][];
}

/** The chain of ancestors of a span, nearest first. */
function ancestors(span: ZipkinSpan, byId: Map<string, ZipkinSpan>): ZipkinSpan[] {
  const chain: ZipkinSpan[] = [];
  for (let parent = span.parentId && byId.get(span.parentId); parent; parent = parent.parentId && byId.get(parent.parentId))
    chain.push(parent);
  return chain;
}

describe('an order traced through every hop', () => {
  it('is one trace in Zipkin with spans of order-svc, payment-svc, product-svc and gateway-sim, in causal order', async () => {
    const admin = await adminToken();
    const customer = await newCustomer('traced');
    const product = await createProduct(admin, 5, 450);
    const order = await placeOrder(customer, { items: [{ productId: product, quantity: 1 }], paymentToken: 'tok_ok' });
    expect((await finalOrder(customer, order.id)).status).toBe('CONFIRMED');

    const expected = ['order-svc', 'payment-svc', 'product-svc', 'gateway-sim', 'notification-svc'];
    const [trace] = await until(
      `the trace of order ${order.id} in Zipkin, with spans of ${expected.join(', ')}`,
      () => tracesOf(order.id),
      (traces) =>
        traces.length >= 1 &&
        expected.every((service) => traces[0]!.some((span) => span.localEndpoint.serviceName === service)) &&
        traces[0]!.some((span) => span.name === 'order-confirmed process'),
      60_000,
    );
    const spans = trace!;
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    const byId = new Map(spans.map((span) => [span.id, span]));
    const find = (service: string, name: RegExp) => {
      const found = spans.find((span) => span.localEndpoint.serviceName === service && name.test(span.name));
      expect(found, `${service} ${name}`).toBeDefined();
      return found!;
    };

    const post = find('order-svc', /^post \/orders$/i);
    const placed = find('order-svc', /^order-placed publish$/);
    const charged = find('payment-svc', /^order-placed process$/);
    const gateway = find('gateway-sim', /^post \/charges$/i);
    const reserved = find('product-svc', /^order-placed process$/);
    const confirmedPublish = find('order-svc', /^order-confirmed publish$/);
    const mailed = find('notification-svc', /^order-confirmed process$/);

    // Each hop descends from the one that caused it, across the outbox and Kafka.
    const descends = (child: ZipkinSpan, parent: ZipkinSpan) =>
      expect(
        ancestors(child, byId).map((span) => span.id),
        `${child.name} under ${parent.name}`,
      ).toContain(parent.id);
    descends(placed, post);
    descends(charged, placed);
    descends(reserved, placed);
    descends(gateway, charged);
    descends(mailed, confirmedPublish);
    // order-confirmed was written by the report that completed the order: one of the two.
    const report = ancestors(confirmedPublish, byId).find((span) => / process$/.test(span.name));
    expect(['payment-success process', 'inventory-reserved process']).toContain(report?.name);

    // And in time: every span starts no earlier than its parent.
    for (const span of spans) {
      const parent = span.parentId ? byId.get(span.parentId) : undefined;
      if (parent) expect(span.timestamp, `${span.name} after ${parent.name}`).toBeGreaterThanOrEqual(parent.timestamp);
    }
    // The time each record spent between its producer and the consumer is a span of its own.
    expect(spans.some((span) => span.name === 'order-placed in kafka')).toBe(true);
  });
});
