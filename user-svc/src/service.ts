// user-svc: accounts, login, and the keys every service verifies access tokens with.
import { Type } from 'typebox';
import { defineService } from '@shop/kit';
import { userRoutes } from './api/routes.ts';
import { userProblems } from './domain/problems.ts';
import { SigningKeys } from './domain/signing-keys.ts';
import { Passwords } from './domain/passwords.ts';
import { checkAccount, ensureAdmin } from './domain/users.ts';

/** user-svc's own variables (the shared ones are in kit/src/service/config.ts). */
export const UserServiceEnvironment = Type.Object({
  ADMIN_USERNAME: Type.String({ minLength: 3, default: 'admin' }),
  ADMIN_EMAIL: Type.String({ format: 'email', default: 'admin@shop.local' }),
  ADMIN_PASSWORD: Type.String({ minLength: 8, description: 'Password of the admin account created at first start' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 3600 }),
  SIGNING_KEYS_RELOAD_MS: Type.Integer({
    minimum: 1_000,
    default: 60_000,
    description: 'How often an instance reads the stored signing keys, so that it signs with a key another instance rotated in',
  }),
  LOGIN_RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 20, description: 'Login attempts per client address and account per window' }),
  LOGIN_RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  REGISTRATION_RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 10, description: 'Registrations per client address per window' }),
  REGISTRATION_RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  PASSWORD_HASH_CONCURRENCY: Type.Integer({
    minimum: 1,
    default: 2,
    description: 'Password hashes and checks (scrypt, 32 MiB each) computed at once; about one per core',
  }),
  PASSWORD_HASH_QUEUE: Type.Integer({
    minimum: 0,
    default: 32,
    description: 'Password hashes and checks that may wait for one; past that, 503 TOO_BUSY at once',
  }),
});

export default defineService({
  name: 'user-svc',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: UserServiceEnvironment,
  problems: userProblems,
  setup({ env, sql, codec, logger }) {
    const keys = new SigningKeys(sql, env.ACCESS_TOKEN_TTL_SECONDS);
    const passwords = new Passwords({ concurrency: env.PASSWORD_HASH_CONCURRENCY, queue: env.PASSWORD_HASH_QUEUE });
    return {
      // user-svc verifies its own tokens with its key store, not through its own JWKS over HTTP.
      resolveKey: (kid) => keys.publicKey(kid),
      checkAccount: (user) => checkAccount({ sql }, user),
      routes: (app) =>
        userRoutes(app, {
          sql,
          codec,
          passwords,
          keys,
          loginRateLimit: { max: env.LOGIN_RATE_LIMIT_MAX, timeWindow: env.LOGIN_RATE_LIMIT_WINDOW_MS },
          registrationRateLimit: { max: env.REGISTRATION_RATE_LIMIT_MAX, timeWindow: env.REGISTRATION_RATE_LIMIT_WINDOW_MS },
        }),
      jobs: [{ name: 'signing-keys-reload', everyMs: env.SIGNING_KEYS_RELOAD_MS, run: () => keys.reload() }],
      async start() {
        await keys.load();
        const admin = await ensureAdmin(
          { sql, codec, passwords },
          { username: env.ADMIN_USERNAME, email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD },
        );
        logger.info({ username: admin.user.username, created: admin.created }, 'admin account');
      },
    };
  },
});
