import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Role } from '../../../schemas/types.generated.ts';
import type { AccountCheck } from './accounts.ts';
import { commonProblems, Problem } from './problem.ts';

/** Tokens are ES256 JWTs issued by user-svc; nothing else is accepted (in particular not `alg: none`). */
export const TOKEN_ALGORITHM = 'ES256';
export const TOKEN_ISSUER = 'shop-user-svc';
/** Who tokens are for: the shop's APIs. A token of the same issuer minted for anything else is refused. */
export const TOKEN_AUDIENCE = 'shop-api';
export const JWKS_PATH = '/.well-known/jwks.json';

export interface AuthenticatedUser {
  id: string;
  role: Role;
  /** The account's token generation when the token was issued (claim `gen`); 1 in tokens that predate it. */
  tokenGeneration: number;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; role: Role; gen?: number };
    user: AuthenticatedUser;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: a valid bearer token is required; sets `request.user`. */
    authenticate: preHandlerAsyncHookHandler;
    /** preHandler: a valid bearer token of a user with `role` is required. */
    requireRole(role: Role): preHandlerAsyncHookHandler;
  }
}

/**
 * The OpenAPI security requirement of a route that needs a bearer token, and of one that
 * needs the admin role too (OpenAPI 3.1 lets a non-OAuth scheme list the roles it requires).
 */
export const bearerAuth = [{ bearer: [] }];
export const adminAuth = [{ bearer: ['admin'] }];

/**
 * Finds the public key (PEM) that verifies a token, by the `kid` of its header; `issuedAtMs` is
 * the token's `iat` as it claims it (not verified yet), when it has one.
 */
export type PublicKeyResolver = (kid: string, issuedAtMs?: number) => Promise<string | undefined>;

const KEY_TTL_MS = 10 * 60_000;
/** At most one JWKS fetch this often, whatever kids the tokens make up and however often a fetch fails. */
const FETCH_INTERVAL_MS = 5_000;

/**
 * Public keys from user-svc's JWKS endpoint. Each fetch reads the whole key set and caches
 * every key's PEM (converted once, by node:crypto) for 10 minutes; requests that arrive
 * together while a fetch is under way share it.
 *
 * A token whose kid is not cached causes a fetch, but at most one every 5 s: tokens with
 * made-up kids cannot turn into a request to user-svc each. In between, a token that says it
 * was issued after the last fetch started waits for the next one (shared by every token
 * waiting): a new key (a rotation) signs as soon as it is in the JWKS, so a fetch just before
 * it would otherwise have its first tokens refused for 5 s. A token issued before the last
 * fetch started is refused at once: its key, if user-svc has it, was in that fetch. A made-up
 * kid on a token whose claims are made up too holds only its own request. While the last
 * fetch failed, such a token is answered 503 at once: what is unknown is the key set, not the
 * token (docs/security.md). get-jwks, used before, fetched per kid and cached only the kid
 * asked for, so it could not give that bound.
 */
export function jwksKeyResolver(userServiceUrl: string): PublicKeyResolver {
  let pems = new Map<string, string>();
  let fetchedAt = 0;
  let lastFetchStarted = 0;
  let fetching: Promise<void> | undefined;
  let waitingForFetch: Promise<void> | undefined;
  /** Why the last fetch failed, while it is the last. */
  let lastFetchFailure: string | undefined;

  const fetchAll = async (): Promise<void> => {
    let jwks: { keys?: (JsonWebKey & { kid?: string })[] };
    try {
      const response = await fetch(`${userServiceUrl}${JWKS_PATH}`, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`${JWKS_PATH} answered ${response.status}`);
      jwks = (await response.json()) as typeof jwks;
    } catch (error) {
      lastFetchFailure = `The keys of user-svc cannot be read (${(error as Error).message}); retry shortly.`;
      throw commonProblems.AUTH_UNAVAILABLE(lastFetchFailure);
    }
    lastFetchFailure = undefined;
    const next = new Map<string, string>();
    for (const { kid, ...jwk } of jwks.keys ?? []) {
      if (typeof kid !== 'string' || jwk.kty !== 'EC' || jwk.crv !== 'P-256') continue;
      next.set(kid, createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString());
    }
    pems = next;
    fetchedAt = Date.now();
  };

  const refresh = (): Promise<void> => {
    if (fetching) return fetching;
    lastFetchStarted = Date.now();
    fetching = fetchAll().finally(() => {
      fetching = undefined;
    });
    return fetching;
  };

  const mayFetch = () => Date.now() - lastFetchStarted >= FETCH_INTERVAL_MS;
  /**
   * Whether a token issued then may be signed by a key newer than the last fetch: `iat` is in
   * whole seconds (up to 1 s early), and the two machines' clocks may differ by another second.
   */
  const mayBeNewerThanLastFetch = (issuedAtMs: number | undefined) => issuedAtMs !== undefined && issuedAtMs + 2_000 > lastFetchStarted;

  /** The fetch under way, else one now if allowed, else the one the next allowed moment makes. */
  const nextFetch = (): Promise<void> => {
    if (fetching !== undefined || mayFetch()) return refresh();
    // At most the interval, even if the wall clock stepped back since the last fetch.
    const wait = Math.min(FETCH_INTERVAL_MS, lastFetchStarted + FETCH_INTERVAL_MS - Date.now());
    waitingForFetch ??= delay(wait, undefined, { ref: false }).then(() => {
      waitingForFetch = undefined;
      return refresh();
    });
    return waitingForFetch;
  };

  return async (kid, issuedAtMs) => {
    const known = pems.get(kid);
    if (known !== undefined) {
      // Answered at once: an old key set is read again behind the request, not in front of
      // it, so that requests do not wait on user-svc (5 s each while it hangs) to learn
      // what they already know; a failed read is tried again at most every 5 s.
      if (Date.now() - fetchedAt > KEY_TTL_MS && fetching === undefined && mayFetch()) refresh().catch(() => {});
      return known;
    }
    if (fetching === undefined && !mayFetch()) {
      if (lastFetchFailure !== undefined) throw commonProblems.AUTH_UNAVAILABLE(lastFetchFailure);
      if (!mayBeNewerThanLastFetch(issuedAtMs)) return undefined;
    }
    await nextFetch();
    return pems.get(kid);
  };
}

/**
 * Bearer-token verification (@fastify/jwt) with keys from `resolveKey`, then the account's
 * standing (`checkAccount`: revoked or disabled), and the two guards routes use:
 * `app.authenticate` and `app.requireRole('admin')`.
 */
export const authentication = fp<{ resolveKey: PublicKeyResolver; checkAccount?: AccountCheck | undefined }>(
  async (app, { resolveKey, checkAccount }) => {
    await app.register(fastifyJwt, {
      secret: {
        // Only verification happens here; user-svc signs with its own key store.
        private: 'unused: this plugin never signs',
        public: async (_request: FastifyRequest, token: TokenOrHeader) => {
          const header = ('header' in token ? token.header : token) as { alg?: unknown; kid?: unknown };
          if (header.alg !== TOKEN_ALGORITHM) {
            throw commonProblems.TOKEN_INVALID(`Tokens must be signed with ${TOKEN_ALGORITHM}.`);
          }
          const { iat } = ('payload' in token ? token.payload : {}) as { iat?: unknown };
          const issuedAtMs = typeof iat === 'number' && Number.isFinite(iat) ? iat * 1000 : undefined;
          const key = typeof header.kid === 'string' ? await resolveKey(header.kid, issuedAtMs) : undefined;
          if (!key) throw commonProblems.TOKEN_INVALID('The token was not signed by a known key.');
          return key;
        },
      },
      decode: { complete: true },
      verify: {
        algorithms: [TOKEN_ALGORITHM],
        allowedIss: TOKEN_ISSUER,
        allowedAud: TOKEN_AUDIENCE,
        requiredClaims: ['sub', 'role', 'exp', 'aud', 'iss'],
        // A token verified once is not verified again for a minute (nor past its expiry): the
        // signature check was 5% of order-svc's CPU under load. Revocation is not affected (the
        // account check runs on every request); withdrawing a signing key takes up to a minute longer.
        cache: true,
        cacheTTL: 60_000,
      },
      formatUser: (payload) => ({
        id: payload.sub,
        role: payload.role,
        tokenGeneration: Number.isInteger(payload.gen) ? payload.gen! : 1,
      }),
    });

    // Every route behind a bearer token can answer what the token check answers: 401, and 403
    // for a disabled account (every service with such routes checks accounts; the offline
    // build for the OpenAPI export has no database to, and documents them all the same).
    // Declared here once: the routes list only the answers of their own.
    app.addHook('onRoute', (route) => {
      if (!route.schema?.security?.some((requirement) => 'bearer' in requirement)) return;
      route.schema.response = { 401: Problem, 403: Problem, ...(route.schema.response as object | undefined) };
    });

    const verify = async (request: FastifyRequest) => {
      await request.jwtVerify();
      await checkAccount?.(request.user);
    };
    app.decorate('authenticate', async (request: FastifyRequest, _reply: FastifyReply) => {
      await verify(request);
    });
    app.decorate('requireRole', (role: Role) => async (request: FastifyRequest, _reply: FastifyReply) => {
      await verify(request);
      if (request.user.role !== role) {
        throw commonProblems.FORBIDDEN(`This operation needs the ${role} role.`);
      }
    });
  },
  { name: 'authentication' },
);
