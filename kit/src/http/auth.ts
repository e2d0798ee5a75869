import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt';
import fp from 'fastify-plugin';
import buildGetJwks from 'get-jwks';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Role } from '../../../schemas/types.generated.ts';
import type { AccountCheck } from './accounts.ts';
import { commonProblems } from './problem.ts';

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

/** Finds the public key (PEM) that verifies a token, by the `kid` of its header. */
export type PublicKeyResolver = (kid: string) => Promise<string | undefined>;

const KEY_TTL_MS = 10 * 60_000;
/** How long user-svc's keys are not asked again for a kid they did not have. */
const UNKNOWN_KID_TTL_MS = 60_000;
/** At most one JWKS fetch for an unknown kid this often, whatever kids the tokens make up. */
const UNKNOWN_KID_FETCH_INTERVAL_MS = 5_000;
const MAX_REMEMBERED_KIDS = 1_000;

/**
 * Public keys from user-svc's JWKS endpoint, cached; a kid that is not cached (a rotated key)
 * fetches the JWKS again. The PEM of each key is kept too: get-jwks converts the JWK to PEM
 * on every call, in pure JavaScript elliptic-curve arithmetic, which cost more CPU than all
 * else a request does.
 *
 * A kid the JWKS does not have is remembered as unknown for a minute, and a fetch for an
 * unknown kid happens at most every 5 s: tokens with made-up kids cannot turn into a request
 * to user-svc each. A real new key is published before it signs anything (user-svc loads a
 * key, then signs with it), so the only cost is that a token of a brand-new key arriving
 * within 5 s of a made-up one waits for the next fetch (docs/security.md).
 */
export function jwksKeyResolver(userServiceUrl: string): PublicKeyResolver {
  const getJwks = buildGetJwks({ jwksPath: JWKS_PATH, max: 20, ttl: KEY_TTL_MS });
  const pems = new Map<string, { pem: string; until: number }>();
  const unknown = new Map<string, number>();
  let lastUnknownFetch = 0;
  return async (kid) => {
    const now = Date.now();
    const known = pems.get(kid);
    if (known && known.until > now) return known.pem;
    if ((unknown.get(kid) ?? 0) > now) return undefined;
    if (!known && now - lastUnknownFetch < UNKNOWN_KID_FETCH_INTERVAL_MS) return undefined;
    if (!known) lastUnknownFetch = now;
    try {
      const pem = await getJwks.getPublicKey({ domain: userServiceUrl, kid, alg: TOKEN_ALGORITHM });
      if (pems.size >= MAX_REMEMBERED_KIDS) pems.clear();
      pems.set(kid, { pem, until: now + KEY_TTL_MS });
      return pem;
    } catch (error) {
      if ((error as { code?: string }).code === 'JWK_NOT_FOUND') {
        if (unknown.size >= MAX_REMEMBERED_KIDS) unknown.clear();
        unknown.set(kid, now + UNKNOWN_KID_TTL_MS);
        return undefined;
      }
      throw commonProblems.AUTH_UNAVAILABLE(`The keys of user-svc cannot be read (${(error as Error).message}); retry shortly.`);
    }
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
          const key = typeof header.kid === 'string' ? await resolveKey(header.kid) : undefined;
          if (!key) throw commonProblems.TOKEN_INVALID('The token was not signed by a known key.');
          return key;
        },
      },
      decode: { complete: true },
      verify: {
        algorithms: [TOKEN_ALGORITHM],
        allowedIss: TOKEN_ISSUER,
        allowedAud: TOKEN_AUDIENCE,
        requiredClaims: ['sub', 'role', 'exp', 'aud'],
      },
      formatUser: (payload) => ({
        id: payload.sub,
        role: payload.role,
        tokenGeneration: Number.isInteger(payload.gen) ? payload.gen! : 1,
      }),
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
