// Tokens over their life: a logout revokes them everywhere, a key rotation keeps the older
// tokens valid while new ones are signed by the new key, and tokens with made-up key ids do
// not turn into a request to user-svc's JWKS each.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminToken, call, expectProblem, login, newCustomer } from '../harness/http.ts';
import { until } from '../harness/shop.ts';
import { stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
const ownOrders = (token: string) => call('GET', `${endpoints.orderService}/orders`, { token });
/** `token` with its header's kid replaced (its signature no longer matches, which a kid nobody knows never gets to). */
function withKid(token: string, kid: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const decoded = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
  return `${Buffer.from(JSON.stringify({ ...decoded, kid })).toString('base64url')}.${payload}.${signature}`;
}

/** How many times user-svc has served its JWKS (its request-duration histogram's counts, over every status). */
async function jwksServed(): Promise<number> {
  const metrics = await (await fetch(`${endpoints.userService}/metrics`)).text();
  const lines = metrics
    .split('\n')
    .filter((l) => l.startsWith('http_request_duration_seconds_count') && l.includes('route="/.well-known/jwks.json"'));
  // Called after a fetch of its own: no line means the metric is no longer where this looks.
  if (lines.length === 0) throw new Error("user-svc's metrics count no JWKS request");
  return lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('logout', () => {
  it('revokes every token of the account, in user-svc at once and elsewhere once user-updated arrives; a new login works', async () => {
    const customer = await newCustomer('logout');
    const otherDevice = await login(customer.username, customer.password);
    expect((await ownOrders(customer.token)).status).toBe(200);

    const out = await call('POST', `${endpoints.userService}/auth/logout`, { token: customer.token });
    expect(out.status).toBe(204);
    expectProblem(await call('GET', `${endpoints.userService}/users/me`, { token: otherDevice }), 401, 'TOKEN_REVOKED');
    await until(
      'order-svc to refuse the other device’s token',
      async () => (await ownOrders(otherDevice)).status,
      (status) => status === 401,
      30_000,
    );
    expectProblem(await ownOrders(customer.token), 401, 'TOKEN_REVOKED');

    const again = await login(customer.username, customer.password);
    expect((await ownOrders(again)).status).toBe(200);
  });
});

describe('key rotation', () => {
  it('signs new tokens with the new key and keeps verifying the older ones; the JWKS publishes both', async () => {
    const customer = await newCustomer('rotation');
    const before = customer.token;
    const admin = await adminToken();
    const checkers = [`${endpoints.orderService}/orders`, `${endpoints.paymentService}/payments?orderId=${randomUUID()}`];
    // A made-up kid just before the rotation makes order-svc and payment-svc read the JWKS
    // now, without the new key: its first tokens then come within the 5 s before their next read.
    for (const url of checkers)
      expectProblem(await call('GET', url, { token: withKid(before, `made-up-${randomUUID()}`) }), 401, 'TOKEN_INVALID');
    const rotated = await call<{ kid: string }>('POST', `${endpoints.userService}/admin/signing-keys`, { token: admin });
    expect(rotated.status).toBe(201);
    expect(rotated.body.kid).not.toBe(kidOf(before));

    const jwks = await call<{ keys: { kid: string }[] }>('GET', `${endpoints.userService}/.well-known/jwks.json`);
    expect(jwks.body.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([kidOf(before), rotated.body.kid]));

    const after = await login(customer.username, customer.password);
    expect(kidOf(after)).toBe(rotated.body.kid);
    for (const token of [before, after]) {
      expect((await call('GET', `${endpoints.userService}/users/me`, { token })).status).toBe(200);
      // order-svc and payment-svc learn the new key from the JWKS the first time they see its
      // kid: the token waits for their next read (at most one every 5 s), it is not refused.
      for (const url of checkers) expect((await call('GET', url, { token })).status, url).toBe(200);
    }
    expectProblem(await call('POST', `${endpoints.userService}/admin/signing-keys`, { token: after }), 403, 'FORBIDDEN');
  });
});

describe('unknown key ids', () => {
  it('are refused without a JWKS fetch each: 60 made-up kids in a burst cost user-svc at most two fetches', async () => {
    const customer = await newCustomer('kids');
    expect((await fetch(`${endpoints.userService}/.well-known/jwks.json`)).status).toBe(200);
    const served = await jwksServed();
    const answers = await Promise.all(Array.from({ length: 60 }, () => ownOrders(withKid(customer.token, `made-up-${randomUUID()}`))));
    for (const answer of answers) expectProblem(answer, 401, 'TOKEN_INVALID');
    expect((await jwksServed()) - served).toBeLessThanOrEqual(2);
    // The real key is still known: the caller's own token works throughout.
    expect((await ownOrders(customer.token)).status).toBe(200);
  });
});
