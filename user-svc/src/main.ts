// user-svc: accounts, login, and the keys every service verifies access tokens with.
import { fileURLToPath } from 'node:url';
import { runService } from '@shop/kit';
import { userRoutes } from './api/routes.ts';
import { UserServiceEnvironment } from './config.ts';
import { SigningKeys } from './domain/signing-keys.ts';
import { ensureAdmin } from './domain/users.ts';

await runService({
  name: 'user-svc',
  version: '0.1.0',
  description: 'Accounts, login and the JWKS that verifies access tokens',
  port: { variable: 'USER_SVC_PORT', default: 3001 },
  database: 'users',
  migrations: fileURLToPath(new URL('../migrations', import.meta.url)),
  produces: ['user-registration'],
  environment: UserServiceEnvironment,
  async setup({ env: config, sql, codec, logger }) {
    const keys = await SigningKeys.load(sql, config.ACCESS_TOKEN_TTL_SECONDS);
    const admin = await ensureAdmin({ sql, codec }, { username: config.ADMIN_USERNAME, email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
    logger.info({ username: admin.user.username, created: admin.created }, 'admin account');
    return {
      // user-svc verifies its own tokens with its key store, not through its own JWKS over HTTP.
      resolveKey: (kid) => keys.publicKey(kid),
      routes: (app) =>
        userRoutes(app, {
          sql,
          codec,
          keys,
          loginRateLimit: { max: config.LOGIN_RATE_LIMIT_MAX, timeWindow: config.LOGIN_RATE_LIMIT_WINDOW_MS },
        }),
    };
  },
});
