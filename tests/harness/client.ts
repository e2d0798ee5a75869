// The services' public APIs as plain functions, free of any test framework: the integration
// tests, `make chaos` and `make bench` all reach the system through these.
import { randomInt, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { stackEndpoints } from './stack.ts';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  /** A JSON value, or a string sent as is (for malformed bodies). */
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * A JSON request sent from a given loopback address (127.x.y.z): the services see it as a
 * client of its own, as they would a user on another machine. Per-address limits (user-svc's
 * registration limit) are tested with it, and the harness registers its many customers from
 * many addresses, as many people would.
 */
export function callFrom<T = Record<string, unknown>>(
  sourceAddress: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<ApiResponse<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      {
        method,
        localAddress: sourceAddress,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve({ status: response.statusCode ?? 0, headers, body: (text ? JSON.parse(text) : undefined) as T });
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${url} from ${sourceAddress}: no answer in 30 s`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** A loopback address other than 127.0.0.1, different on nearly every call. */
export const someLoopbackAddress = () => `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

export async function call<T = Record<string, unknown>>(
  method: string,
  url: string,
  options: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The response, if it has the expected status; otherwise an error naming what was attempted. */
export function expectStatus<T>(response: ApiResponse<T>, status: number, attempted: string): ApiResponse<T> {
  if (response.status !== status)
    throw new Error(`${attempted}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

export interface Customer {
  id: string;
  username: string;
  email: string;
  password: string;
  token: string;
}

const endpoints = stackEndpoints();

/** Logs in from an address of its own, so that many logins of one account stay under the per-client rate limit. */
export async function login(username: string, password: string): Promise<string> {
  const response = await callFrom<{ accessToken: string }>(someLoopbackAddress(), 'POST', `${endpoints.userService}/auth/login`, {
    username,
    password,
  });
  return expectStatus(response, 200, `logging in as ${username}`).body.accessToken;
}

/** A new customer with a unique name, registered and logged in. */
export async function registerCustomer(prefix = 'user'): Promise<Customer> {
  const suffix = randomUUID().slice(0, 8);
  const account = { username: `${prefix}-${suffix}`, email: `${prefix}-${suffix}@example.test`, password: `pw-${randomUUID()}` };
  const response = await callFrom<{ id: string }>(someLoopbackAddress(), 'POST', `${endpoints.userService}/users`, account);
  const { id } = expectStatus(response, 201, `registering ${account.username}`).body;
  return { ...account, id, token: await login(account.username, account.password) };
}

/** The admin account user-svc bootstraps from ADMIN_USERNAME / ADMIN_PASSWORD. */
export function adminToken(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return login(env['ADMIN_USERNAME'] ?? 'admin', env['ADMIN_PASSWORD'] ?? 'admin-dev-password');
}

export async function createProduct(
  admin: string,
  stock: number,
  priceCents = 1_000,
  name = `Item ${randomUUID().slice(0, 8)}`,
): Promise<string> {
  const response = await call<{ id: string }>('POST', `${endpoints.productService}/products`, {
    token: admin,
    body: { name, description: '', priceCents, currency: 'EUR', stock },
  });
  return expectStatus(response, 201, 'creating a product').body.id;
}

export async function stockOf(productId: string): Promise<number> {
  return (await call<{ stock: number }>('GET', `${endpoints.productService}/products/${productId}`)).body.stock;
}

export interface Order {
  id: string;
  userId: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  cancelReason?: string;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  totalCents: number;
  currency: string;
}

export function postOrder(
  customer: Pick<Customer, 'token'>,
  body: object,
  idempotencyKey?: string,
  timeoutMs?: number,
): Promise<ApiResponse<Order & { code?: string }>> {
  return call('POST', `${endpoints.orderService}/orders`, {
    token: customer.token,
    body,
    ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

/** Places an order, retrying while order-svc has not yet heard of the customer or the products. */
export async function placeOrder(customer: Pick<Customer, 'token'>, body: object, idempotencyKey?: string): Promise<Order> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await postOrder(customer, body, idempotencyKey);
    if (response.status === 202) return response.body;
    const waiting = response.status === 422 && ['USER_UNKNOWN', 'PRODUCT_UNKNOWN'].includes(response.body.code ?? '');
    if (!waiting || Date.now() > deadline) throw new Error(`placing the order failed: ${response.status} ${JSON.stringify(response.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Polls `read` until `done` holds for its value; fails after `timeoutMs`. */
export async function until<T>(description: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface LedgerCharge {
  id: string;
  status: 'SUCCEEDED' | 'DECLINED' | 'VOIDED';
  amountCents: number;
  refunds: { id: string; amountCents: number }[];
}

/** The gateway's charges (and their refunds) for one order. */
export async function ledger(orderId: string): Promise<LedgerCharge[]> {
  return (await call<LedgerCharge[]>('GET', `${endpoints.gateway}/charges?reference=${orderId}`)).body;
}

/** Charged minus refunded, in cents. */
export const netCharged = (charges: LedgerCharge[]) =>
  charges
    .filter((c) => c.status === 'SUCCEEDED')
    .reduce((sum, c) => sum + c.amountCents - c.refunds.reduce((r, x) => r + x.amountCents, 0), 0);
