import rateLimit from '@fastify/rate-limit';
import { Type } from 'typebox';
import { adminAuth, bearerAuth, cursorPosition, JWKS_PATH, pageAnswer, Problem, type HttpApp } from '@shop/kit';
import type { SigningKeys } from '../domain/signing-keys.ts';
import {
  authenticate,
  disableAccount,
  findAccounts,
  getUser,
  logOut,
  loginKey,
  registerUser,
  updateProfile,
  type UserRow,
  type UsersDependencies,
} from '../domain/users.ts';
import {
  AccessToken,
  Jwks,
  LoginBody,
  RegisterBody,
  SigningKey,
  UpdateMeBody,
  User,
  UserPage,
  UserParams,
  UserSearchQuery,
} from './schemas.ts';

export interface UserRoutesOptions extends UsersDependencies {
  keys: SigningKeys;
  loginRateLimit: { max: number; timeWindow: number };
  registrationRateLimit: { max: number; timeWindow: number };
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  email: row.email,
  fullName: row.fullName,
  role: row.role,
  disabled: row.disabledAt !== null,
  createdAt: row.createdAt.toISOString(),
});

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
        response: { 201: User, 400: Problem, 409: Problem, 429: Problem, 503: Problem },
      },
      // Per client address: each registration costs a 32 MiB password hash, and accounts are
      // what the per-account login limit counts by. Counted after validation, so only the
      // requests that would hash a password count.
      config: { rateLimit: { ...options.registrationRateLimit, hook: 'preHandler' } },
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
        response: { 200: AccessToken, 400: Problem, 401: Problem, 403: Problem, 429: Problem, 503: Problem },
      },
      config: {
        rateLimit: {
          max: options.loginRateLimit.max,
          timeWindow: options.loginRateLimit.timeWindow,
          // After the body is parsed, so the limit is per client address and account: one
          // client guessing one account is stopped, other accounts behind the same NAT are not.
          // The account is counted under one key however it is spelled (username or email,
          // any case or Unicode form).
          hook: 'preHandler',
          keyGenerator: async (request) =>
            `${request.ip}|${await loginKey(options, (request.body as { username?: string }).username ?? '')}`,
        },
      },
    },
    async (request) => {
      const user = await authenticate(options, request.body.username, request.body.password);
      return { ...keys.issueToken(user), tokenType: 'Bearer' as const };
    },
  );

  app.post(
    '/auth/logout',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: "Revoke every token of the caller's account issued until now, on every device (emits user-updated)",
        security: bearerAuth,
        response: { 204: Type.Null(), 404: Problem },
      },
    },
    async (request, reply) => {
      await logOut(options, request.user.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/users/me',
    { onRequest: app.authenticate, schema: { tags: ['users'], security: bearerAuth, response: { 200: User, 404: Problem } } },
    async (request) => toUser(await getUser(options, request.user.id)),
  );

  app.patch(
    '/users/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['users'],
        summary: 'Change email, full name or password (email and password need currentPassword; emits user-updated)',
        security: bearerAuth,
        body: UpdateMeBody,
        response: { 200: User, 400: Problem, 403: Problem, 404: Problem, 409: Problem, 429: Problem, 503: Problem },
      },
      config: {
        // A currentPassword is a password guess as a login is: a stolen token must not try
        // them without end. Counted per account (the token says whose), under the login limit.
        rateLimit: {
          max: options.loginRateLimit.max,
          timeWindow: options.loginRateLimit.timeWindow,
          hook: 'preHandler',
          keyGenerator: (request) => `current-password|${request.user.id}`,
          allowList: (request) => (request.body as { currentPassword?: string }).currentPassword === undefined,
        },
      },
    },
    async (request) => toUser(await updateProfile(options, request.user.id, request.body)),
  );

  app.get(
    '/admin/users',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Accounts whose username, email or full name contains q, newest first (admin)',
        security: adminAuth,
        querystring: UserSearchQuery,
        response: { 200: UserPage, 400: Problem },
      },
    },
    async (request) => {
      const page = await findAccounts(options, request.query.q, request.query.limit, cursorPosition(request.query.cursor));
      return pageAnswer(page, toUser);
    },
  );

  app.post(
    '/admin/users/:id/disable',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Disable an account: its tokens and new orders are refused from then on (admin; emits user-updated)',
        security: adminAuth,
        params: UserParams,
        response: { 200: User, 400: Problem, 404: Problem, 409: Problem },
      },
    },
    async (request) => toUser(await disableAccount(options, request.user, request.params.id)),
  );

  app.post(
    '/admin/signing-keys',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['admin'],
        summary: 'Rotate the signing key: a new key signs from now on; tokens of the older keys verify until they expire (admin)',
        security: adminAuth,
        response: { 201: SigningKey },
      },
    },
    async (_request, reply) => {
      const key = await keys.rotate();
      return reply.code(201).send({ kid: key.kid, createdAt: key.createdAt.toISOString() });
    },
  );

  app.get(
    JWKS_PATH,
    { schema: { tags: ['auth'], summary: 'Public keys that verify access tokens (RFC 7517)', response: { 200: Jwks } } },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(keys.jwks()),
  );
}
