// A small HTTP client for the services' public APIs, and the account helpers most tests need.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
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
}

export async function call<T = Record<string, unknown>>(method: string, url: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Asserts a problem+json answer with the given status and stable code. */
export function expectProblem(response: ApiResponse, status: number, code?: string): void {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), code: code ?? expect.any(String) });
  expect(response.status).toBe(status);
  expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  token: string;
}

const endpoints = stackEndpoints();

export async function login(username: string, password: string): Promise<string> {
  const response = await call<{ accessToken: string }>('POST', `${endpoints.userService}/auth/login`, { body: { username, password } });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.accessToken;
}

/** A new customer with a unique name, registered and logged in. */
export async function newCustomer(prefix = 'user'): Promise<TestUser> {
  const suffix = randomUUID().slice(0, 8);
  const account = { username: `${prefix}-${suffix}`, email: `${prefix}-${suffix}@example.test`, password: `pw-${randomUUID()}` };
  const response = await call<{ id: string }>('POST', `${endpoints.userService}/users`, { body: account });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { ...account, id: response.body.id, token: await login(account.username, account.password) };
}

/** The admin account user-svc bootstraps from ADMIN_USERNAME / ADMIN_PASSWORD. */
export function adminToken(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return login(env['ADMIN_USERNAME'] ?? 'admin', env['ADMIN_PASSWORD'] ?? 'admin-dev-password');
}
