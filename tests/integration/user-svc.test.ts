// user-svc through its public API: registration and its event, login and tokens, the
// profile, and every kind of bad input answered with problem+json.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventCodec, type Sql } from '@shop/kit';
import { adminToken, call, expectProblem, login, newCustomer, type ApiResponse, type TestUser } from '../harness/http.ts';
import { TopicRecorder } from '../harness/kafka.ts';
import { connectServiceDatabase, controlComponent, stackEndpoints } from '../harness/stack.ts';
import { Passwords } from '../../user-svc/src/domain/passwords.ts';
import { authenticate, type UserRow } from '../../user-svc/src/domain/users.ts';

const endpoints = stackEndpoints();
const users = endpoints.userService;
const codec = new EventCodec(endpoints.registryUrl);
let recorder: TopicRecorder;
let sql: Sql;

beforeAll(async () => {
  recorder = await TopicRecorder.start(endpoints.kafkaBrokers, ['user-registration']);
  sql = connectServiceDatabase('users', 2);
});

afterAll(async () => {
  await recorder.stop();
  await sql.end();
});

describe('registration', () => {
  it('creates the account and emits user-registration keyed by the user id, without the password', async () => {
    const suffix = randomUUID().slice(0, 8);
    const password = `secret-${randomUUID()}`;
    const response = await call<{ id: string; createdAt: string }>('POST', `${users}/users`, {
      body: { username: `reg-${suffix}`, email: `reg-${suffix}@example.test`, password, fullName: 'Reg Istered' },
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: `reg-${suffix}`,
      email: `reg-${suffix}@example.test`,
      fullName: 'Reg Istered',
      role: 'customer',
      disabled: false,
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(response.body)).not.toContain(password);

    const userId = response.body.id;
    await recorder.waitFor('the registration event', (records) => records.some((r) => r.key === userId));
    const [record] = recorder.records.filter((r) => r.key === userId);
    expect(recorder.records.filter((r) => r.key === userId)).toHaveLength(1);
    expect(record!.headers['type']).toBe('user-registration');
    expect(record!.headers['id']).toMatch(/^[0-9a-f-]{36}$/);
    const value = await codec.decode('user-registration', record!.value!);
    expect(value).toEqual({
      userId,
      username: `reg-${suffix}`,
      email: `reg-${suffix}@example.test`,
      fullName: 'Reg Istered',
      role: 'customer',
      registeredAt: new Date(response.body.createdAt).getTime(),
    });
    const raw = record!.value!.toString('latin1');
    expect(raw).not.toContain(password);
    expect(raw).not.toContain('scrypt');
  });

  it('answers 409 for a taken username or email, whatever their case, and emits nothing', async () => {
    const first = await newCustomer('dup');
    const [{ since }] = await sql<[{ since: Date }]>`select now() as since`;
    const sameName = await call('POST', `${users}/users`, {
      body: { username: first.username.toUpperCase(), email: `other-${first.email}`, password: 'long-enough' },
    });
    expectProblem(sameName, 409, 'USERNAME_TAKEN');
    const sameEmail = await call('POST', `${users}/users`, {
      body: { username: `other-${first.username}`, email: first.email.toUpperCase(), password: 'long-enough' },
    });
    expectProblem(sameEmail, 409, 'EMAIL_TAKEN');
    // Integration test files run one at a time: no other registration writes meanwhile.
    const [{ count }] = await sql<[{ count: number }]>`select count(*)::int as count from outbox where created_at >= ${since}`;
    expect(count).toBe(0);
  });

  it.each([
    ['a missing password', { username: 'no-password', email: 'np@example.test' }],
    ['a short password', { username: 'short-pw', email: 'sp@example.test', password: 'short' }],
    ['an invalid email', { username: 'bad-email', email: 'not-an-email', password: 'long-enough' }],
    ['a number for the username', { username: 12345, email: 'num@example.test', password: 'long-enough' }],
    ['an unknown field', { username: 'extra-field', email: 'ef@example.test', password: 'long-enough', role: 'admin' }],
    ['an array body', [1, 2, 3]],
  ])('answers 400 problem+json for %s', async (_case, body) => {
    expectProblem(await call('POST', `${users}/users`, { body }), 400, 'VALIDATION_FAILED');
  });

  it('answers 400 for malformed JSON, 413 for an oversized body, 415 for another media type', async () => {
    expectProblem(await call('POST', `${users}/users`, { body: '{"username": "x",' }), 400, 'MALFORMED_JSON');
    const huge = { username: 'huge', email: 'huge@example.test', password: 'x'.repeat(200_000) };
    expectProblem(await call('POST', `${users}/users`, { body: huge }), 413, 'BODY_TOO_LARGE');
    expectProblem(
      await call('POST', `${users}/users`, { body: 'username=x', headers: { 'content-type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });
});

describe('login', () => {
  it('issues an ES256 bearer token for username or email; 401 for a wrong password or an unknown user', async () => {
    const user = await newCustomer('login');
    const byEmail = await call<{ accessToken: string; tokenType: string; expiresIn: number }>('POST', `${users}/auth/login`, {
      body: { username: user.email, password: user.password },
    });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body).toMatchObject({ tokenType: 'Bearer', expiresIn: expect.any(Number) });
    const header = JSON.parse(Buffer.from(byEmail.body.accessToken.split('.')[0]!, 'base64url').toString()) as { alg: string };
    expect(header.alg).toBe('ES256');

    expectProblem(
      await call('POST', `${users}/auth/login`, { body: { username: user.username, password: 'wrong-password' } }),
      401,
      'INVALID_CREDENTIALS',
    );
    expectProblem(
      await call('POST', `${users}/auth/login`, { body: { username: `nobody-${randomUUID()}`, password: 'whatever' } }),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  it('rate-limits repeated attempts on one account with 429', async () => {
    const username = `target-${randomUUID().slice(0, 8)}`;
    const statuses: number[] = [];
    let limited: ApiResponse | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const response = await call('POST', `${users}/auth/login`, { body: { username, password: 'guess' } });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses[0]).toBe(401);
    if (!limited) throw new Error(`never rate-limited; statuses: ${statuses.join(',')}`);
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account from the same client is not affected.
    const other = await newCustomer('unaffected');
    expect(await login(other.username, other.password)).toBeTruthy();
  });

  // The real hash, held at its start until the test has changed the account: a login's hash
  // may wait its turn for seconds on a busy service, and what was committed meanwhile counts.
  class PasswordsHeldAtVerify extends Passwords {
    readonly reached = Promise.withResolvers<void>();
    readonly release = Promise.withResolvers<void>();
    override async verify(password: string, stored: string): Promise<boolean> {
      this.reached.resolve();
      await this.release.promise;
      return super.verify(password, stored);
    }
  }

  async function loginAround(customer: TestUser, meanwhile: () => Promise<void>): Promise<PromiseSettledResult<UserRow>> {
    const passwords = new PasswordsHeldAtVerify({ concurrency: 1, queue: 1 });
    const attempt = authenticate({ sql, passwords }, customer.username, customer.password);
    await passwords.reached.promise;
    await meanwhile();
    passwords.release.resolve();
    const [settled] = await Promise.allSettled([attempt]);
    return settled;
  }

  it('answers with the account as it is after the password check: a logout meanwhile shows in the token generation', async () => {
    const customer = await newCustomer('relogin');
    const [{ tokenGeneration }] = await sql<[{ tokenGeneration: number }]>`select token_generation from users where id = ${customer.id}`;
    const settled = await loginAround(customer, async () => {
      expect((await call('POST', `${users}/auth/logout`, { token: customer.token })).status).toBe(204);
    });
    expect(settled).toMatchObject({ status: 'fulfilled', value: { id: customer.id, tokenGeneration: tokenGeneration + 1 } });
  });

  it('refuses a login whose account was disabled while its password was being checked', async () => {
    const customer = await newCustomer('disabled-meanwhile');
    const admin = await adminToken();
    const settled = await loginAround(customer, async () => {
      expect((await call('POST', `${users}/admin/users/${customer.id}/disable`, { token: admin })).status).toBe(200);
    });
    expect(settled).toMatchObject({ status: 'rejected', reason: { status: 403, code: 'ACCOUNT_DISABLED' } });
  });

  it('has bootstrapped the admin account from the environment', async () => {
    const token = await adminToken();
    const me = await call('GET', `${users}/users/me`, { token });
    expect(me.body).toMatchObject({ username: process.env['ADMIN_USERNAME'] ?? 'admin', role: 'admin' });
  });
});

describe('the profile', () => {
  it('GET and PATCH /users/me change email, full name and password; email and password need the current password', async () => {
    const user = await newCustomer('profile');
    const me = await call('GET', `${users}/users/me`, { token: user.token });
    expect(me.body).toMatchObject({ id: user.id, username: user.username, fullName: null, disabled: false });

    expectProblem(
      await call('PATCH', `${users}/users/me`, { token: user.token, body: { email: `new-${user.email}` } }),
      400,
      'CURRENT_PASSWORD_REQUIRED',
    );
    expectProblem(
      await call('PATCH', `${users}/users/me`, {
        token: user.token,
        body: { password: 'a-new-password', currentPassword: 'not-it-at-all' },
      }),
      403,
      'CURRENT_PASSWORD_WRONG',
    );
    const renamed = await call('PATCH', `${users}/users/me`, { token: user.token, body: { fullName: 'New Name' } });
    expect(renamed.body).toMatchObject({ fullName: 'New Name' });

    const patched = await call('PATCH', `${users}/users/me`, {
      token: user.token,
      body: { email: `new-${user.email}`, password: 'a-new-password', currentPassword: user.password },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ fullName: 'New Name', email: `new-${user.email}` });
    // The password change revoked the token it was made with.
    expectProblem(await call('GET', `${users}/users/me`, { token: user.token }), 401, 'TOKEN_REVOKED');
    const token = await login(user.username, 'a-new-password');
    expectProblem(
      await call('POST', `${users}/auth/login`, { body: { username: user.username, password: user.password } }),
      401,
      'INVALID_CREDENTIALS',
    );

    const other = await newCustomer('profile-other');
    expectProblem(
      await call('PATCH', `${users}/users/me`, { token, body: { email: other.email, currentPassword: 'a-new-password' } }),
      409,
      'EMAIL_TAKEN',
    );
    expectProblem(await call('PATCH', `${users}/users/me`, { token, body: {} }), 400, 'VALIDATION_FAILED');
    expectProblem(
      await call('PATCH', `${users}/users/me`, { token, body: { currentPassword: 'a-new-password' } }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(await call('PATCH', `${users}/users/me`, { token, body: { password: 'short' } }), 400, 'VALIDATION_FAILED');
  });
});

describe('bearer tokens, verified by user-svc (own keys) and product-svc (JWKS)', () => {
  let signingKey: { kid: string; privateKey: string };
  let user: Awaited<ReturnType<typeof newCustomer>>;
  const protectedUrls = () => [`${users}/users/me`, `${endpoints.productService}/products`];
  const probe = (url: string, token: string | undefined) =>
    url.endsWith('/products')
      ? call('POST', url, { ...(token ? { token } : {}), body: { name: 'x', priceCents: 1, currency: 'EUR', stock: 1 } })
      : call('GET', url, token ? { token } : {});

  beforeAll(async () => {
    user = await newCustomer('tokens');
    [signingKey] = await sql<[{ kid: string; privateKey: string }]>`
      select kid, private_key from signing_keys order by created_at desc, kid limit 1`;
  });

  it('accepts a valid token (a customer may not create products: 403)', async () => {
    expect((await probe(protectedUrls()[0]!, user.token)).status).toBe(200);
    expectProblem(await probe(protectedUrls()[1]!, user.token), 403, 'FORBIDDEN');
  });

  it('answers 401 without a token', async () => {
    for (const url of protectedUrls()) expectProblem(await probe(url, undefined), 401, 'TOKEN_MISSING');
  });

  it('answers 401 for an expired token signed with the real key', async () => {
    const sign = createSigner({
      algorithm: 'ES256',
      key: signingKey.privateKey,
      kid: signingKey.kid,
      iss: 'shop-user-svc',
      aud: 'shop-api',
    });
    const now = Math.floor(Date.now() / 1000);
    const expired = sign({ sub: user.id, role: 'customer', iat: now - 7200, exp: now - 3600 });
    for (const url of protectedUrls()) expectProblem(await probe(url, expired), 401, 'TOKEN_EXPIRED');
  });

  it('answers 401 for a token with a forged signature (another key, the real kid)', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sign = createSigner({
      algorithm: 'ES256',
      key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      kid: signingKey.kid,
      iss: 'shop-user-svc',
      aud: 'shop-api',
      expiresIn: 600_000,
    });
    const forged = sign({ sub: user.id, role: 'admin' });
    for (const url of protectedUrls()) expectProblem(await probe(url, forged), 401, 'TOKEN_INVALID');
  });

  it('answers 401 for a token signed with the real key for another audience or issuer, or for none', async () => {
    const claims = [
      { iss: 'shop-user-svc', aud: 'another-api' },
      { iss: 'shop-user-svc' },
      { iss: 'another-issuer', aud: 'shop-api' },
      { aud: 'shop-api' },
    ];
    for (const claim of claims) {
      const sign = createSigner({ algorithm: 'ES256', key: signingKey.privateKey, kid: signingKey.kid, ...claim, expiresIn: 600_000 });
      const token = sign({ sub: user.id, role: 'customer' });
      for (const url of protectedUrls()) expectProblem(await probe(url, token), 401, 'TOKEN_INVALID');
    }
  });

  it('answers 401 for an unsigned token (alg: none) claiming admin', async () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${part({ alg: 'none', typ: 'JWT', kid: signingKey.kid })}.${part({ sub: user.id, role: 'admin', iss: 'shop-user-svc', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    for (const url of protectedUrls()) expectProblem(await probe(url, unsigned), 401, 'TOKEN_INVALID');
  });

  it('keeps the signing key across a restart of user-svc: tokens issued before still verify', async () => {
    const before = (await call<{ keys: { kid: string }[] }>('GET', `${users}/.well-known/jwks.json`)).body.keys.map((k) => k.kid);
    await controlComponent(inject('stackKind'), 'stop', 'user-svc');
    await controlComponent(inject('stackKind'), 'start', 'user-svc');
    const after = (await call<{ keys: { kid: string }[] }>('GET', `${users}/.well-known/jwks.json`)).body.keys.map((k) => k.kid);
    expect(after).toEqual(before);
    expect((await call('GET', `${users}/users/me`, { token: user.token })).status).toBe(200);
  });
});
