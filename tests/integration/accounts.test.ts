// Accounts after registration: user-updated with the state before and after each change,
// order-svc's copy following it, tokens revoked by a password change and refused with a
// disabled account (in user-svc at once, in the other services once the event reaches them),
// and the admin's user search.
import { beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, type UserUpdated } from '@shop/kit';
import { adminToken, call, expectProblem, login, newCustomer, type TestUser } from '../harness/http.ts';
import { TopicRecorder } from '../harness/kafka.ts';
import { createProduct, placeOrder, until } from '../harness/shop.ts';
import { connectServiceDatabase, stackEndpoints } from '../harness/stack.ts';

const endpoints = stackEndpoints();
const codec = new EventCodec(endpoints.registryUrl);
let admin: string;

beforeAll(async () => {
  admin = await adminToken();
});

/** The user-updated events of one account, decoded, in the order they were written. */
async function userUpdates(userId: string): Promise<UserUpdated[]> {
  const records = await TopicRecorder.readToEnd(endpoints.kafkaBrokers, ['user-updated']);
  const mine = records.filter((record) => record.key === userId);
  return Promise.all(mine.map((record) => codec.decode('user-updated', record.value!)));
}

const ordersPost = (user: Pick<TestUser, 'token'>, productId: string) =>
  call('POST', `${endpoints.orderService}/orders`, { token: user.token, body: { items: [{ productId, quantity: 1 }] } });

describe('user-updated', () => {
  it('carries the account before and after a profile change, never the password; order-svc’s copy follows', async () => {
    const user = await newCustomer('updated');
    const changed = await call('PATCH', `${endpoints.userService}/users/me`, {
      token: user.token,
      body: { email: `moved-${user.email}`, fullName: 'Moved Person', currentPassword: user.password },
    });
    expect(changed.status).toBe(200);

    const [update] = await until(
      'the user-updated event',
      () => userUpdates(user.id),
      (events) => events.length === 1,
    );
    expect(update).toMatchObject({
      userId: user.id,
      change: 'PROFILE_CHANGED',
      before: { username: user.username, email: user.email, fullName: null, disabled: false, tokenGeneration: 1, version: 1 },
      after: { username: user.username, email: `moved-${user.email}`, fullName: 'Moved Person', disabled: false, version: 2 },
    });
    expect(JSON.stringify(update)).not.toMatch(/password|scrypt/i);

    const orders = connectServiceDatabase('orders', 1);
    try {
      await until(
        "order-svc's copy of the user to follow",
        async () =>
          (
            await orders<{ email: string; fullName: string; version: number }[]>`
          select email, full_name, version from known_users where id = ${user.id}`
          )[0],
        (copy) => copy?.version === 2,
      );
      const [copy] = await orders`select email, full_name from known_users where id = ${user.id}`;
      expect(copy).toEqual({ email: `moved-${user.email}`, fullName: 'Moved Person' });
    } finally {
      await orders.end();
    }
  });

  it('a password change revokes the tokens issued before it, everywhere; a new login works', async () => {
    const user = await newCustomer('revoked');
    const product = await createProduct(admin, 10);
    await placeOrder(user, { items: [{ productId: product, quantity: 1 }] });

    const changed = await call('PATCH', `${endpoints.userService}/users/me`, {
      token: user.token,
      body: { password: 'another-password', currentPassword: user.password },
    });
    expect(changed.status).toBe(200);
    expectProblem(await call('GET', `${endpoints.userService}/users/me`, { token: user.token }), 401, 'TOKEN_REVOKED');
    // order-svc and payment-svc refuse it once user-updated has reached them.
    await until(
      'order-svc to refuse the old token',
      async () => (await ordersPost(user, product)).status,
      (status) => status === 401,
      30_000,
    );
    expectProblem(await ordersPost(user, product), 401, 'TOKEN_REVOKED');
    await until(
      'payment-svc to refuse the old token',
      async () => (await call('GET', `${endpoints.paymentService}/payments?orderId=${product}`, { token: user.token })).status,
      (status) => status === 401,
      30_000,
    );

    const fresh = { token: await login(user.username, 'another-password') };
    expect((await ordersPost(fresh, product)).status).toBe(202);
    expect((await userUpdates(user.id)).map((update) => [update.change, update.after.tokenGeneration])).toEqual([['PASSWORD_CHANGED', 2]]);
  });
});

describe('the admin', () => {
  it('disables an account: its tokens, its login and its new orders are refused', async () => {
    const user = await newCustomer('disabled');
    const product = await createProduct(admin, 10);
    await placeOrder(user, { items: [{ productId: product, quantity: 1 }] });

    const disabled = await call('POST', `${endpoints.userService}/admin/users/${user.id}/disable`, { token: admin });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ id: user.id, disabled: true });
    // Again: nothing changes, no second event.
    expect((await call('POST', `${endpoints.userService}/admin/users/${user.id}/disable`, { token: admin })).status).toBe(200);

    expectProblem(await call('GET', `${endpoints.userService}/users/me`, { token: user.token }), 403, 'ACCOUNT_DISABLED');
    expectProblem(
      await call('POST', `${endpoints.userService}/auth/login`, { body: { username: user.username, password: user.password } }),
      403,
      'ACCOUNT_DISABLED',
    );
    await until(
      'order-svc to refuse the disabled account',
      async () => (await ordersPost(user, product)).status,
      (status) => status === 403,
      30_000,
    );
    expectProblem(await ordersPost(user, product), 403, 'ACCOUNT_DISABLED');
    const updates = await until(
      'the user-updated event',
      () => userUpdates(user.id),
      (events) => events.length === 1,
    );
    expect(updates[0]).toMatchObject({ change: 'DISABLED', before: { disabled: false }, after: { disabled: true, version: 2 } });
  });

  it('cannot disable their own account; customers cannot disable anyone; unknown accounts are 404', async () => {
    const me = (await call<{ id: string }>('GET', `${endpoints.userService}/users/me`, { token: admin })).body;
    expectProblem(
      await call('POST', `${endpoints.userService}/admin/users/${me.id}/disable`, { token: admin }),
      409,
      'CANNOT_DISABLE_SELF',
    );
    // Its id in capitals names the same account (PostgreSQL reads a uuid in any case).
    expectProblem(
      await call('POST', `${endpoints.userService}/admin/users/${me.id.toUpperCase()}/disable`, { token: admin }),
      409,
      'CANNOT_DISABLE_SELF',
    );
    expect((await call<{ disabled: boolean }>('GET', `${endpoints.userService}/users/me`, { token: admin })).status).toBe(200);
    const customer = await newCustomer('not-admin');
    expectProblem(await call('POST', `${endpoints.userService}/admin/users/${me.id}/disable`, { token: customer.token }), 403, 'FORBIDDEN');
    expectProblem(
      await call('POST', `${endpoints.userService}/admin/users/00000000-0000-4000-8000-000000000000/disable`, { token: admin }),
      404,
      'USER_NOT_FOUND',
    );
  });

  it('searches accounts by part of the username, email or full name, any case, page by page', async () => {
    const tag = `srch${Date.now().toString(36)}`;
    const found: TestUser[] = [];
    for (const name of ['a', 'b', 'c']) found.push(await newCustomer(`${tag}-${name}`));
    await call('PATCH', `${endpoints.userService}/users/me`, { token: found[0]!.token, body: { fullName: `Zed ${tag.toUpperCase()} Q` } });

    const search = (query: string, token = admin) =>
      call<{ items: { id: string; username: string }[]; nextCursor: string | null }>(
        'GET',
        `${endpoints.userService}/admin/users?${query}`,
        { token },
      );
    const byName = await search(`q=${tag}`);
    expect(byName.status).toBe(200);
    expect(byName.body.items.map((user) => user.id)).toEqual(found.map((user) => user.id).reverse());
    expect((await search(`q=${tag}-B`)).body.items.map((user) => user.id)).toEqual([found[1]!.id]);
    expect((await search(`q=${encodeURIComponent(`zed ${tag}`)}`)).body.items.map((user) => user.id)).toEqual([found[0]!.id]);
    // % and _ are letters here, not wildcards: as wildcards they would match all three.
    expect((await search(`q=${encodeURIComponent(`${tag}%`)}`)).body.items).toEqual([]);
    expect((await search(`q=${encodeURIComponent(`${tag}_a`)}`)).body.items).toEqual([]);

    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await search(`q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.body.items.map((user) => user.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(byName.body.items.map((user) => user.id));

    expectProblem(await search(`q=${tag}`, found[0]!.token), 403, 'FORBIDDEN');
    expectProblem(await search('cursor=bm90LWEtY3Vyc29y'), 400, 'INVALID_CURSOR');
    expectProblem(await search(`q=${'x'.repeat(201)}`), 400, 'VALIDATION_FAILED');
  });
});
