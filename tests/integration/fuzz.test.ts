// Property: no request, however made up, gets a 5xx; every refusal is problem+json with a
// stable code; every request that one of the documented schemas refuses is refused. fast-check
// drives every operation of every service's OpenAPI document with valid, mutated and hostile
// paths, query strings, bodies, content types and tokens (see tests/harness/fuzz.ts), against
// the running stack. In `make test`: FUZZ_RUNS (25) requests
// per operation with the fixed FUZZ_SEED; `make fuzz RUNS=n SEED=s` runs longer or otherwise.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, login, newCustomer, type TestUser } from '../harness/http.ts';
import { authorization, fuzzOperations, requestsFor, send, verdict, type FuzzOperation } from '../harness/fuzz.ts';

const runs = Number(process.env['FUZZ_RUNS'] ?? 25);
const seed = Number(process.env['FUZZ_SEED'] ?? 20261202);
const operations = fuzzOperations();

/** Operations whose valid admin request changes the stack for good: fuzzed with bad tokens only. */
const lastingEffects = new Set(['POST /admin/signing-keys']);

let customer: TestUser;
let admin: string;
const statuses = new Map<string, Map<number, number>>();

beforeAll(async () => {
  customer = await newCustomer('fuzz');
  admin = await adminToken();
});

afterAll(() => {
  const lines = [...statuses].map(([name, counts]) => `${name}: ${[...counts].map(([status, n]) => `${status}×${n}`).join(' ')}`);
  console.log(`fuzz, seed ${seed}, ${runs} requests per operation:\n${lines.join('\n')}`);
});

const nameOf = (op: FuzzOperation) => `${op.service} ${op.method} ${op.path}`;

describe(`every operation, ${runs} made-up requests each (seed ${seed})`, () => {
  it('found the operations of every service', () => {
    expect(new Set(operations.map((op) => op.service)).size).toBeGreaterThanOrEqual(6);
  });

  it.each(operations.map((op) => [nameOf(op), op] as const))(
    '%s: never a 5xx, every 4xx problem+json',
    { timeout: 600_000 },
    async (name, op) => {
      const counts = new Map<number, number>();
      statuses.set(name, counts);
      await fc.assert(
        fc.asyncProperty(requestsFor(op), async (request) => {
          if (request.token === 'valid' && lastingEffects.has(`${op.method} ${op.path}`))
            Object.assign(request, { token: 'short-signature', mustBeRefused: 'a token of kind short-signature' });
          const real = op.auth === 'admin' && request.token === 'valid' ? admin : customer.token;
          const response = await send(op.service, request, authorization(request.token, real));
          counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
          // A logout revokes the customer's tokens: log in again, so that the next requests go deeper than 401.
          if (op.path === '/auth/logout' && response.status === 204)
            customer = { ...customer, token: await login(customer.username, customer.password) };
          const wrong = verdict(request, response);
          if (wrong)
            throw new Error(
              `${request.method} ${request.path.slice(0, 300)}?${request.query.slice(0, 300)} (token ${request.token}, body ${request.body?.raw.slice(0, 200)}): ${wrong}`,
            );
        }),
        { seed, numRuns: runs, endOnFailure: true },
      );
      // Made-up requests prove little if none got past the token check to the route's own code.
      if (op.auth !== 'none' && !lastingEffects.has(`${op.method} ${op.path}`))
        expect(
          [...counts.keys()].filter((status) => status !== 401 && status !== 403),
          'the statuses of requests past the token check',
        ).not.toEqual([]);
    },
  );
});
