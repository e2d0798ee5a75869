import rateLimit from '@fastify/rate-limit';
import { JWKS_PATH, Problem, type HttpApp } from '@shop/kit';
import type { SigningKeys } from '../domain/signing-keys.ts';
import { authenticate, getUser, registerUser, updateProfile, type UserRow, type UsersDependencies } from '../domain/users.ts';
import { AccessToken, Jwks, LoginBody, RegisterBody, UpdateMeBody, User } from './schemas.ts';

export interface UserRoutesOptions extends UsersDependencies {
  keys: SigningKeys;
  loginRateLimit: { max: number; timeWindow: number };
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  email: row.email,
  fullName: row.fullName,
  role: row.role,
  createdAt: row.createdAt.toISOString(),
});

const secured = [{ bearer: [] }];

export async function userRoutes(app: HttpApp, options: UserRoutesOptions): Promise<void> {
  const { keys } = options;
  await app.register(rateLimit, { global: false });

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Register an account (emits user-registration)',
        body: RegisterBody,
        response: { 201: User, 400: Problem, 409: Problem },
      },
    },
    async (request, reply) => reply.code(201).send(toUser(await registerUser(options, request.body))),
  );

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a username (or email) and password for an access token',
        body: LoginBody,
        response: { 200: AccessToken, 400: Problem, 401: Problem, 429: Problem },
      },
      config: {
        rateLimit: {
          max: options.loginRateLimit.max,
          timeWindow: options.loginRateLimit.timeWindow,
          // After the body is parsed, so the limit is per client address and account: one
          // client guessing one account is stopped, other accounts behind the same NAT are not.
          hook: 'preHandler',
          keyGenerator: (request) => `${request.ip}|${((request.body as { username?: string } | undefined)?.username ?? '').toLowerCase()}`,
        },
      },
    },
    async (request) => {
      const user = await authenticate(options, request.body.username, request.body.password);
      return { ...keys.issueToken(user), tokenType: 'Bearer' as const };
    },
  );

  app.get(
    '/users/me',
    { onRequest: app.authenticate, schema: { tags: ['users'], security: secured, response: { 200: User, 401: Problem, 404: Problem } } },
    async (request) => toUser(await getUser(options, request.user.id)),
  );

  app.patch(
    '/users/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['users'],
        summary: 'Change email, full name or password',
        security: secured,
        body: UpdateMeBody,
        response: { 200: User, 400: Problem, 401: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request) => toUser(await updateProfile(options, request.user.id, request.body)),
  );

  app.get(
    JWKS_PATH,
    { schema: { tags: ['auth'], summary: 'Public keys that verify access tokens (RFC 7517)', response: { 200: Jwks } } },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(keys.jwks()),
  );
}
