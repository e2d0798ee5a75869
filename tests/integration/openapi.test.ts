// The OpenAPI documents in docs/openapi/ against what the running services serve at /docs/json:
// a route or schema changed without `make openapi` fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repositoryRoot, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const services = [
  ['user-svc', endpoints.userService],
  ['product-svc', endpoints.productService],
  ['order-svc', endpoints.orderService],
  ['payment-svc', endpoints.paymentService],
  ['gateway-sim', endpoints.gateway],
] as const;

describe('OpenAPI documents', () => {
  it.each(services)('docs/openapi/%s.json is what the service serves at /docs/json (run `make openapi`)', async (service, url) => {
    const response = await fetch(`${url}/docs/json`, { signal: AbortSignal.timeout(30_000) });
    expect(response.status).toBe(200);
    const served = await response.json();
    const committed = JSON.parse(readFileSync(`${repositoryRoot}/docs/openapi/${service}.json`, 'utf8')) as unknown;
    expect(served, `docs/openapi/${service}.json differs from ${url}/docs/json: run \`make openapi\``).toEqual(committed);
  });
});
