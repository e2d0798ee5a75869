import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt';
import fp from 'fastify-plugin';
import buildGetJwks from 'get-jwks';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Role } from '../../../schemas/types.generated.ts';
import { commonProblems } from './problem.ts';

/** Tokens are ES256 JWTs issued by user-svc; nothing else is accepted (in particular not `alg: none`). */
export const TOKEN_ALGORITHM = 'ES256';
export const TOKEN_ISSUER = 'shop-user-svc';
export const JWKS_PATH = '/.well-known/jwks.json';

export interface AuthenticatedUser {
  id: string;
  role: Role;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; role: Role };
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

/** Finds the public key (PEM) that verifies a token, by the `kid` of its header. */
export type PublicKeyResolver = (kid: string) => Promise<string | undefined>;

const KEY_TTL_MS = 10 * 60_000;

/**
 * Public keys from user-svc's JWKS endpoint, cached; an unknown `kid` (a rotated key) refetches.
 * The PEM of each key is kept too: get-jwks converts the JWK to PEM on every call, in pure
 * JavaScript elliptic-curve arithmetic, which cost more CPU than all else a request does.
 */
export function jwksKeyResolver(userServiceUrl: string): PublicKeyResolver {
  const getJwks = buildGetJwks({ jwksPath: JWKS_PATH, max: 20, ttl: KEY_TTL_MS });
  const pems = new Map<string, { pem: string; until: number }>();
  return async (kid) => {
    const known = pems.get(kid);
    if (known && known.until > Date.now()) return known.pem;
    try {
      const pem = await getJwks.getPublicKey({ domain: userServiceUrl, kid, alg: TOKEN_ALGORITHM });
      pems.set(kid, { pem, until: Date.now() + KEY_TTL_MS });
      return pem;
    } catch (error) {
      if ((error as { code?: string }).code === 'JWK_NOT_FOUND') return undefined;
      throw commonProblems.AUTH_UNAVAILABLE(`The keys of user-svc cannot be read (${(error as Error).message}); retry shortly.`);
    }
  };
}

/**
 * Bearer-token verification (@fastify/jwt) with keys from `resolveKey`, and the two guards
 * routes use: `app.authenticate` and `app.requireRole('admin')`.
 */
export const authentication = fp<{ resolveKey: PublicKeyResolver }>(
  async (app, { resolveKey }) => {
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
      verify: { algorithms: [TOKEN_ALGORITHM], allowedIss: TOKEN_ISSUER, requiredClaims: ['sub', 'role', 'exp'] },
      formatUser: (payload) => ({ id: payload.sub, role: payload.role }),
    });

    app.decorate('authenticate', async (request: FastifyRequest, _reply: FastifyReply) => {
      await request.jwtVerify();
    });
    app.decorate('requireRole', (role: Role) => async (request: FastifyRequest, _reply: FastifyReply) => {
      await request.jwtVerify();
      if (request.user.role !== role) {
        throw commonProblems.FORBIDDEN(`This operation needs the ${role} role.`);
      }
    });
  },
  { name: 'authentication' },
);
