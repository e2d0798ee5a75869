// Every route of every service, built offline and called with app.inject(): authentication,
// validation and the error paths answer problem+json with a stable code before any
// dependency is touched. The routes come from each service's own OpenAPI document, so a new
// route is covered without a line here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services, type HttpApp } from '@shop/kit';
import { offlineApp, testToken } from '../harness/offline.ts';

interface Operation {
  method: string;
  path: string;
  secured: boolean;
  adminOnly: boolean;
  hasBody: boolean;
  query: { name: string; required: boolean }[];
}

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  parameters?: { in: string; name: string; required?: boolean; schema?: { type?: string; default?: unknown } }[];
}

function operationsOf(app: HttpApp): Operation[] {
  const document = app.swagger() as { paths: Record<string, Record<string, OpenApiOperation>> };
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    // HEAD routes are Fastify's copies of the GET routes, answered without a body.
    Object.entries(methods)
      .filter(([method]) => method !== 'head')
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        secured: (operation.security ?? []).length > 0,
        // kit's adminAuth: the bearer scheme with the admin role required.
        adminOnly: (operation.security ?? []).some((requirement) => requirement['bearer']?.includes('admin') ?? false),
        hasBody: operation.requestBody !== undefined,
        // A parameter with a default is listed as required, but a request may leave it out.
        query: (operation.parameters ?? [])
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, required: p.required === true && p.schema?.default === undefined })),
      })),
  );
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
    expect(operationsOf(app).filter((op) => !op.path.startsWith('/health')).length).toBeGreaterThan(0);
  });

  describe('every secured route', () => {
    const secured = () => operationsOf(app).filter((op) => op.secured);
    it('refuses a request without a token: 401 TOKEN_MISSING', async () => {
      for (const op of secured()) expectProblem(await app.inject({ method: op.method, url: concrete(op.path) }), 401, 'TOKEN_MISSING');
    });
    it('refuses a token that is not a JWT: 401 TOKEN_INVALID', async () => {
      for (const op of secured())
        expectProblem(
          await app.inject({ method: op.method, url: concrete(op.path), headers: { authorization: 'Bearer not.a.jwt' } }),
          401,
          'TOKEN_INVALID',
        );
    });
    it('refuses a token signed by an unknown key: 401 TOKEN_INVALID', async () => {
      const headers = { authorization: `Bearer ${testToken('admin', { kid: 'someone-else' })}` };
      for (const op of secured())
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path), headers }), 401, 'TOKEN_INVALID');
    });
    it('refuses an expired token: 401 TOKEN_EXPIRED', async () => {
      const headers = { authorization: `Bearer ${testToken('admin', { expiresIn: -60 })}` };
      for (const op of secured())
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path), headers }), 401, 'TOKEN_EXPIRED');
    });
    it('refuses a customer on an admin route: 403 FORBIDDEN', async () => {
      const headers = { authorization: `Bearer ${testToken('customer')}` };
      for (const op of secured().filter((candidate) => candidate.adminOnly)) {
        expectProblem(await app.inject({ method: op.method, url: concrete(op.path), headers }), 403, 'FORBIDDEN');
      }
    });
  });

  describe('every route with a body', () => {
    const withBody = () => operationsOf(app).filter((op) => op.hasBody);
    it('refuses a body that is not JSON: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      for (const op of withBody()) {
        const response = await app.inject({
          method: op.method,
          url: concrete(op.path),
          headers: { ...admin, 'content-type': 'text/plain' },
          payload: 'hello',
        });
        expectProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
    });
    it('refuses malformed JSON: 400 MALFORMED_JSON', async () => {
      for (const op of withBody()) {
        const response = await app.inject({
          method: op.method,
          url: concrete(op.path),
          headers: { ...admin, 'content-type': 'application/json' },
          payload: '{"unterminated',
        });
        expectProblem(response, 400, 'MALFORMED_JSON');
      }
    });
    it('refuses a body of unknown fields: 400 VALIDATION_FAILED', async () => {
      for (const op of withBody()) {
        const response = await app.inject({
          method: op.method,
          url: concrete(op.path),
          headers: { ...admin, 'if-match': '"1"' },
          payload: { unexpected: true },
        });
        expectProblem(response, 400, 'VALIDATION_FAILED');
      }
    });
  });

  it('refuses a path id that is not a UUID: 400 VALIDATION_FAILED', async () => {
    for (const op of operationsOf(app).filter((candidate) => candidate.path.includes('{id}'))) {
      const response = await app.inject({
        method: op.method,
        url: concrete(op.path, 'not-a-uuid'),
        headers: { ...admin, 'if-match': '"1"' },
        ...(op.hasBody ? { payload: {} } : {}),
      });
      expectProblem(response, 400, 'VALIDATION_FAILED');
    }
  });

  it('refuses a query without its required parameters, or a limit that is not a number: 400 VALIDATION_FAILED', async () => {
    for (const op of operationsOf(app).filter((candidate) => candidate.query.length > 0)) {
      const required = op.query.filter((param) => param.required);
      const url = required.length > 0 ? op.path : `${op.path}?limit=lots`;
      if (required.length === 0 && !op.query.some((param) => param.name === 'limit')) continue;
      expectProblem(await app.inject({ method: op.method, url: concrete(url), headers: admin }), 400, 'VALIDATION_FAILED');
    }
  });

  it('refuses a cursor it did not issue: 400 INVALID_CURSOR', async () => {
    for (const op of operationsOf(app).filter((candidate) => candidate.query.some((param) => param.name === 'cursor'))) {
      expectProblem(
        await app.inject({ method: op.method, url: `${op.path}?cursor=bm90LWEtY3Vyc29y`, headers: admin }),
        400,
        'INVALID_CURSOR',
      );
    }
  });
});
