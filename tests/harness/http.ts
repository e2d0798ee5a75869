// The HTTP helpers the integration tests use: the plain client (client.ts) and the assertion
// on problem+json answers.
import { expect } from 'vitest';
import type { ApiResponse } from './client.ts';

export { adminToken, call, login, registerCustomer as newCustomer, type ApiResponse, type Customer as TestUser } from './client.ts';

/** Asserts a problem+json answer with the given status and stable code. */
export function expectProblem(response: ApiResponse, status: number, code?: string): void {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), code: code ?? expect.any(String) });
  expect(response.status).toBe(status);
  expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
}
