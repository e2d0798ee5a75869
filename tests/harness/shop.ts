// Saga-level helpers: products, orders placed once order-svc knows the user and products,
// waiting for an order's final state, and reading the gateway's ledger.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { call, type ApiResponse, type TestUser } from './http.ts';
import { stackEndpoints } from './stack.ts';

const endpoints = stackEndpoints();

export interface Order {
  id: string;
  userId: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  cancelReason?: string;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  totalCents: number;
  currency: string;
}

export interface LedgerCharge {
  id: string;
  status: 'SUCCEEDED' | 'DECLINED';
  amountCents: number;
  refunds: { id: string; amountCents: number }[];
}

export async function createProduct(admin: string, stock: number, priceCents = 1_000): Promise<string> {
  const response = await call<{ id: string }>('POST', `${endpoints.productService}/products`, {
    token: admin,
    body: { name: `Saga item ${randomUUID().slice(0, 8)}`, description: '', priceCents, currency: 'EUR', stock },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.id;
}

export async function stockOf(productId: string): Promise<number> {
  return (await call<{ stock: number }>('GET', `${endpoints.productService}/products/${productId}`)).body.stock;
}

export function postOrder(user: TestUser, body: object, idempotencyKey?: string): Promise<ApiResponse<Order & { code?: string }>> {
  return call('POST', `${endpoints.orderService}/orders`, { token: user.token, body, ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}) });
}

/** Places an order, retrying while order-svc has not yet heard of the user or the products. */
export async function placeOrder(user: TestUser, body: object, idempotencyKey?: string): Promise<Order> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await postOrder(user, body, idempotencyKey);
    if (response.status === 202) return response.body;
    const waiting = response.status === 422 && ['USER_UNKNOWN', 'PRODUCT_UNKNOWN'].includes(response.body.code ?? '');
    if (!waiting || Date.now() > deadline) throw new Error(`placing the order failed: ${response.status} ${JSON.stringify(response.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function until<T>(description: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function finalOrder(user: TestUser, orderId: string): Promise<Order> {
  return until(
    `order ${orderId} to be final`,
    async () => (await call<Order>('GET', `${endpoints.orderService}/orders/${orderId}`, { token: user.token })).body,
    (order) => order.status !== 'PENDING',
  );
}

export async function ledger(orderId: string): Promise<LedgerCharge[]> {
  return (await call<LedgerCharge[]>('GET', `${endpoints.gateway}/charges?reference=${orderId}`)).body;
}

/** Charged minus refunded, in cents. */
export const netCharged = (charges: LedgerCharge[]) =>
  charges.filter((c) => c.status === 'SUCCEEDED').reduce((sum, c) => sum + c.amountCents - c.refunds.reduce((r, x) => r + x.amountCents, 0), 0);

export async function paymentsOf(user: TestUser, orderId: string) {
  return (await call<{ status: string; failureReason?: string }[]>('GET', `${endpoints.paymentService}/payments?orderId=${orderId}`, { token: user.token })).body;
}
