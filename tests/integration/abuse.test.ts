// A hostile client against user-svc's expensive endpoints: registrations limited per client
// address, logins limited per address and account however the account is spelled, the
// current-password check of PATCH /users/me limited per account and made without holding the
// account's row, and a flood of password checks answered 503 TOO_BUSY (not starving the
// process) once the bounded queue is full. Each client here has its own loopback address (127.x.y.z), as a user on
// another machine would.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { callFrom, someLoopbackAddress } from '../harness/client.ts';
import { call, expectProblem, newCustomer } from '../harness/http.ts';
import { connectServiceDatabase, stackEndpoints } from '../harness/stack.ts';

const users = stackEndpoints().userService;
const REGISTRATIONS_PER_MINUTE = 10; // user-svc's REGISTRATION_RATE_LIMIT_MAX default
const LOGINS_PER_MINUTE = 20; // LOGIN_RATE_LIMIT_MAX default

const account = () => {
  const suffix = randomUUID().slice(0, 12);
  return { username: `flood-${suffix}`, email: `flood-${suffix}@example.test`, password: `pw-${suffix}-long` };
};

describe('registration', () => {
  it(`is limited to ${REGISTRATIONS_PER_MINUTE} a minute per client address; another address is not affected`, async () => {
    const client = someLoopbackAddress();
    const answers = [];
    for (let i = 0; i <= REGISTRATIONS_PER_MINUTE; i += 1) answers.push(await callFrom(client, 'POST', `${users}/users`, account()));
    expect(answers.slice(0, REGISTRATIONS_PER_MINUTE).map((answer) => answer.status)).toEqual(Array(REGISTRATIONS_PER_MINUTE).fill(201));
    expectProblem(answers.at(-1)!, 429, 'RATE_LIMITED');
    expect(answers.at(-1)!.headers.get('retry-after')).toMatch(/^\d+$/);
    // The limit counts after validation: an invalid registration (which hashes nothing) is
    // told what is wrong with it. Another address is a client of its own.
    expectProblem(await callFrom(client, 'POST', `${users}/users`, { username: 'x' }), 400, 'VALIDATION_FAILED');
    expect((await callFrom(someLoopbackAddress(), 'POST', `${users}/users`, account())).status).toBe(201);
  });
});

describe('login', () => {
  it('counts one account under all its spellings: username, email, any case', async () => {
    const customer = await newCustomer('spelled');
    const client = someLoopbackAddress();
    const spellings = [customer.username, customer.username.toUpperCase(), customer.email, customer.email.toUpperCase()];
    const statuses: number[] = [];
    for (let i = 0; i < LOGINS_PER_MINUTE + 2; i += 1) {
      const login = { username: spellings[i % spellings.length]!, password: 'not-the-password' };
      statuses.push((await callFrom(client, 'POST', `${users}/auth/login`, login)).status);
    }
    expect(statuses.slice(0, LOGINS_PER_MINUTE)).toEqual(Array(LOGINS_PER_MINUTE).fill(401));
    expect(statuses.slice(LOGINS_PER_MINUTE)).toEqual([429, 429]);
    // The right password from the same address is refused too until the window passes; from
    // another address it works.
    const right = { username: customer.email, password: customer.password };
    expect((await callFrom(client, 'POST', `${users}/auth/login`, right)).status).toBe(429);
    expect((await callFrom(someLoopbackAddress(), 'POST', `${users}/auth/login`, right)).status).toBe(200);
  });

  it('a flood of password checks from many addresses is answered 401 or 503 TOO_BUSY, and the rest of the API keeps answering', async () => {
    const customer = await newCustomer('bystander');
    // 150 logins at once, each for another made-up account (so no per-account limit applies),
    // each from its own address: every one costs a 32 MiB scrypt.
    const flood = Array.from({ length: 150 }, () =>
      callFrom(someLoopbackAddress(), 'POST', `${users}/auth/login`, { username: `nobody-${randomUUID()}`, password: 'guess-guess' }),
    );
    const started = Date.now();
    const meanwhile = await call('GET', `${users}/users/me`, { token: customer.token });
    const meanwhileMs = Date.now() - started;
    const answers = await Promise.all(flood);

    expect(meanwhile.status).toBe(200);
    const statuses = new Map<number, number>();
    for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    expect([...statuses.keys()].sort()).toEqual([401, 503]);
    const busy = answers.find((answer) => answer.status === 503)!;
    expectProblem(busy, 503, 'TOO_BUSY');
    expect(busy.headers.get('retry-after')).toBe('1');
    // Reported, not asserted: how long a cheap request took while the flood was queued.
    console.log(`flood: ${JSON.stringify(Object.fromEntries(statuses))}; GET /users/me meanwhile in ${meanwhileMs} ms`);
  });
});

describe('PATCH /users/me with a currentPassword (a password guess with a stolen token)', () => {
  it(`is limited to ${LOGINS_PER_MINUTE} a minute per account; a change that needs no password is not counted`, async () => {
    const customer = await newCustomer('guessed');
    const me = `${users}/users/me`;
    const guess = (currentPassword: string) =>
      call('PATCH', me, { token: customer.token, body: { email: `taken-${randomUUID()}@example.test`, currentPassword } });
    const statuses: number[] = [];
    for (let i = 0; i < LOGINS_PER_MINUTE + 1; i += 1) statuses.push((await guess(`guess-${i}`)).status);
    expect(statuses.slice(0, LOGINS_PER_MINUTE)).toEqual(Array(LOGINS_PER_MINUTE).fill(403));
    expectProblem(await guess(customer.password), 429, 'RATE_LIMITED');
    expect((await call('PATCH', me, { token: customer.token, body: { fullName: 'Still Allowed' } })).status).toBe(200);
    expect((await call('GET', me, { token: customer.token })).body).toMatchObject({ email: customer.email, fullName: 'Still Allowed' });
  });

  it("is refused without waiting for the account's row: requests queued on its lock would each hold a pooled connection", async () => {
    const customer = await newCustomer('locked');
    const usersDb = connectServiceDatabase('users', 2);
    try {
      await usersDb.begin(async (tx) => {
        await tx`select id from users where id = ${customer.id} for update`;
        const answer = call('PATCH', `${users}/users/me`, {
          token: customer.token,
          body: { email: `other-${randomUUID()}@example.test`, currentPassword: 'not-the-password' },
        });
        let settled = false;
        void answer.then(() => (settled = true));
        // Until it is answered, or until user-svc waits for the row this transaction holds.
        const waiting = async () =>
          (
            await usersDb<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where datname = 'users' and wait_event_type = 'Lock' and query ilike '%for update%'`
          )[0]!.n;
        while (!settled && (await waiting()) === 0) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(settled).toBe(true);
        expectProblem(await answer, 403, 'CURRENT_PASSWORD_WRONG');
      });
    } finally {
      await usersDb.end();
    }
  });
});
