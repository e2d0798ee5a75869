// Every route of every service, built offline and called with app.inject(): authentication,
// validation and the error paths answer problem+json with a stable code before any
// dependency is touched. The routes come from each service's OpenAPI document (docs/openapi/,
// which openapi.test.ts keeps equal to what the code serves), so a new route is covered
// without a line here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services, type HttpApp, type ServiceName } from '@shop/kit';
import { offlineApp, testToken } from '../harness/offline.ts';
import { documentedOperations, type JsonSchema } from '../harness/openapi.ts';

interface Operation {
  method: string;
  path: string;
  secured: boolean;
  adminOnly: boolean;
  hasBody: boolean;
  query: { name: string; required: boolean; schema: JsonSchema }[];
}

function operationsOf(service: ServiceName): Operation[] {
  return documentedOperations(service).map(({ method, path, operation, auth }) => ({
    method,
    path,
    secured: auth !== 'none',
    adminOnly: auth === 'admin',
    hasBody: operation.requestBody !== undefined,
    // A parameter with a default is listed as required, but a request may leave it out.
    query: (operation.parameters ?? [])
      .filter((p) => p.in === 'query')
      .map((p) => ({ name: p.name, required: p.required === true && p.schema?.default === undefined, schema: p.schema ?? {} })),
  }));
}

/** Values a query parameter's schema refuses, by what the schema asks for. */
function refusedValues(schema: JsonSchema): string[] {
  if (schema.enum) return ['none-of-these'];
  if (schema.format === 'uuid') return ['not-a-uuid'];
  if (schema.format === 'date-time') return ['yesterday', '2016-12-31T23:59:60Z'];
  if (schema.type === 'integer') return ['lots', '1.5', String((schema.minimum ?? 0) - 1)];
  if (schema.type === 'boolean') return ['maybe'];
  return [...(schema.minLength ? [''] : []), ...(schema.maxLength ? ['x'.repeat(schema.maxLength + 1)] : [])];
}

const SOME_ID = 'c3a7f215-9d84-4b6e-a1f0-5e2d7b93c864';
const concrete = (path: string, id = SOME_ID) => path.replace(/\{[^}]+\}/g, id);
const admin = { authorization: `Bearer ${testToken('admin')}` };

function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string) {
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect({ status: response.statusCode, code: (response.json() as { code?: string }).code }).toEqual({ status, code });
}

describe.each(services.map((service) => service.name))('%s, offline', (name) => {
  let app: HttpApp;
  beforeAll(async () => {
    app = await offlineApp(name);
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers an unknown route with 404 ROUTE_NOT_FOUND', async () => {
    expectProblem(await app.inject({ method: 'GET', url: '/no/such/route' }), 404, 'ROUTE_NOT_FOUND');
  });

  it('serves its OpenAPI document', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    expect(response.json<{ info: { title: string } }>().info.title).toBe(name);
  });

  it('documents routes of its own, each tested below', () => {
    expect(operationsOf(name).filter((op) => !op.path.startsWith('/health')).length).toBeGreaterThan(0);
  });

  // One test per operation and check, so that a service with no operation of a kind has no such test.
  for (const op of operationsOf(name)) {
    const route = `${op.method} ${op.path}`;
    if (op.secured) {
      it(`${route} refuses a request without a token: 401 TOKEN_MISSING`, async () => {
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path) }), 401, 'TOKEN_MISSING');
      });
      it(`${route} refuses a token that is not a JWT: 401 TOKEN_INVALID`, async () => {
        const headers = { authorization: 'Bearer not.a.jwt' };
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path), headers }), 401, 'TOKEN_INVALID');
      });
      it(`${route} refuses a token signed by an unknown key: 401 TOKEN_INVALID`, async () => {
        const headers = { authorization: `Bearer ${testToken('admin', { kid: 'someone-else' })}` };
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path), headers }), 401, 'TOKEN_INVALID');
      });
      it(`${route} refuses an expired token: 401 TOKEN_EXPIRED`, async () => {
        const headers = { authorization: `Bearer ${testToken('admin', { expiresIn: -60 })}` };
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path), headers }), 401, 'TOKEN_EXPIRED');
      });
    }
    if (op.adminOnly) {
      it(`${route} refuses a customer: 403 FORBIDDEN`, async () => {
        const headers = { authorization: `Bearer ${testToken('customer')}` };
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path), headers }), 403, 'FORBIDDEN');
      });
    }
    if (op.hasBody) {
      it(`${route} refuses a body that is not JSON: 415 UNSUPPORTED_MEDIA_TYPE`, async () => {
        const response = await app.inject({
          method: op.method,
          url: concrete(op.path),
          headers: { ...admin, 'content-type': 'text/plain' },
          payload: 'hello',
        });
        expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      });
      it(`${route} refuses malformed JSON: 400 MALFORMED_JSON`, async () => {
        const response = await app.inject({
          method: op.method,
          url: concrete(op.path),
          headers: { ...admin, 'content-type': 'application/json' },
          payload: '{"unterminated',
        });
        expectProblem(response, 400, 'MALFORMED_JSON');
      });
      it(`${route} refuses a body of unknown fields: 400 VALIDATION_FAILED`, async () => {
        const response = await app.inject({
          method: op.method,
          url: concrete(op.path),
          headers: { ...admin, 'if-match': '"1"' },
          payload: { unexpected: true },
        });
        expectProblem(response, 400, 'VALIDATION_FAILED');
      });
    }
    if (op.path.includes('{id}')) {
      it(`${route} refuses a path id that is not a UUID: 400 VALIDATION_FAILED`, async () => {
        const response = await app.inject({
          method: op.method,
          url: concrete(op.path, 'not-a-uuid'),
          headers: { ...admin, 'if-match': '"1"' },
          ...(op.hasBody ? { payload: {} } : {}),
        });
        expectProblem(response, 400, 'VALIDATION_FAILED');
      });
    }
    const required = op.query.filter((param) => param.required);
    if (required.length > 0) {
      it(`${route} refuses a query without ${required.map((param) => param.name).join(', ')}: 400 VALIDATION_FAILED`, async () => {
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path), headers: admin }), 400, 'VALIDATION_FAILED');
      });
    } else if (op.query.some((param) => param.name === 'limit')) {
      it(`${route} refuses a limit that is not a number: 400 VALIDATION_FAILED`, async () => {
        const url = concrete(`${op.path}?limit=lots`);
        expectProblem(await app.inject({ method: op.method, url, headers: admin }), 400, 'VALIDATION_FAILED');
      });
    }
    for (const param of op.query) {
      const values = refusedValues(param.schema);
      if (values.length === 0) continue;
      it(`${route} refuses a ${param.name} its schema does not allow: 400 VALIDATION_FAILED naming it`, async () => {
        for (const value of values) {
          const url = `${concrete(op.path)}?${new URLSearchParams({ [param.name]: value }).toString()}`;
          const response = await app.inject({ method: op.method, url, headers: admin });
          expectProblem(response, 400, 'VALIDATION_FAILED');
          expect(response.json<{ detail: string }>().detail, value).toContain(`querystring/${param.name} `);
        }
      });
    }
    if (op.query.some((param) => param.name === 'cursor')) {
      it(`${route} refuses a cursor it did not issue: 400 INVALID_CURSOR`, async () => {
        const url = `${op.path}?cursor=bm90LWEtY3Vyc29y`;
        expectProblem(await app.inject({ method: op.method, url, headers: admin }), 400, 'INVALID_CURSOR');
      });
    }
  }
});

describe('order-svc, offline: POST /orders', () => {
  let app: HttpApp;
  beforeAll(async () => {
    app = await offlineApp('order-svc');
  });
  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['empty', ''],
    ['of 201 characters', 'k'.repeat(201)],
  ])('refuses an Idempotency-Key %s: 400 VALIDATION_FAILED', async (_, key) => {
    const response = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: { authorization: `Bearer ${testToken('customer')}`, 'idempotency-key': key },
      payload: { items: [{ productId: SOME_ID, quantity: 1 }] },
    });
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(response.json<{ detail: string }>().detail).toMatch(/^headers\/idempotency-key /);
  });
});
