import { Type } from 'typebox';

/** user-svc's own variables (the shared ones are in kit/src/service/config.ts). */
export const UserServiceEnvironment = Type.Object({
  ADMIN_USERNAME: Type.String({ minLength: 3, default: 'admin' }),
  ADMIN_EMAIL: Type.String({ format: 'email', default: 'admin@shop.local' }),
  ADMIN_PASSWORD: Type.String({ minLength: 8, description: 'Password of the admin account created at first start' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 3600 }),
  LOGIN_RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 20, description: 'Login attempts per client address and account per window' }),
  LOGIN_RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
});
