// Services built offline (no database, Kafka or registry touched) for app.inject() tests, and
// the tokens to call them with, signed by a key only these tests know.
import { generateKeyPairSync, sign } from 'node:crypto';
import { buildOffline, TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER, type HttpApp, type Role, type ServiceName } from '@shop/kit';

const TEST_KID = 'offline-test-key';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An ES256 JWT as user-svc issues them; `kid` and `expiresIn` (seconds, may be negative) are for the failure cases. */
export function testToken(role: Role, options: { kid?: string; expiresIn?: number; sub?: string } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: TOKEN_ALGORITHM, typ: 'JWT', kid: options.kid ?? TEST_KID });
  const payload = base64url({
    sub: options.sub ?? '6f1c2a9e-3b7d-4c41-9a55-0d2e8b7f4c13',
    role,
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    iat: now,
    exp: now + (options.expiresIn ?? 600),
  });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString(
    'base64url',
  );
  return `${header}.${payload}.${signature}`;
}

export const offlineApp = (name: ServiceName): Promise<HttpApp> =>
  buildOffline(name, { resolveKey: async (kid) => (kid === TEST_KID ? publicPem : undefined) });
