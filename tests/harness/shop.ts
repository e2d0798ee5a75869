// Saga-level helpers: products, orders placed once order-svc knows the user and products,
// waiting for an order's final state, and reading the gateway's ledger.
import { call, expectStatus, until, type Order } from './client.ts';
import type { TestUser } from './http.ts';
import { stackEndpoints } from './stack.ts';

export { createProduct, ledger, netCharged, placeOrder, postOrder, stockOf, until, type LedgerCharge, type Order } from './client.ts';

const endpoints = stackEndpoints();

export function finalOrder(user: TestUser, orderId: string): Promise<Order> {
  return until(
    `order ${orderId} to be final`,
    async () =>
      expectStatus(
        await call<Order>('GET', `${endpoints.orderService}/orders/${orderId}`, { token: user.token }),
        200,
        `reading order ${orderId}`,
      ).body,
    (order) => order.status !== 'PENDING',
  );
}

export async function paymentsOf(user: TestUser, orderId: string) {
  return (
    await call<{ status: string; failureReason?: string }[]>('GET', `${endpoints.paymentService}/payments?orderId=${orderId}`, {
      token: user.token,
    })
  ).body;
}
