import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER, type Role, type Sql } from '@shop/kit';
import { allSigningKeys, insertSigningKey } from '../data-access/signing-keys-repository.ts';

/** A stored signing key: the private key as PKCS#8 PEM, the public one as a JWK (kty, crv, x, y). */
export interface SigningKeyRow {
  kid: string;
  privateKey: string;
  publicJwk: Record<string, string>;
  createdAt: Date;
}

/** A public key as published in the JWKS (RFC 7517). */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: string;
  use: 'sig';
}

function newSigningKey(): Pick<SigningKeyRow, 'kid' | 'privateKey' | 'publicJwk'> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  // The RFC 7638 thumbprint: the kid is derived from the key, so it cannot name another key.
  const kid = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
  return {
    kid,
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! },
  };
}

/**
 * The keys access tokens are signed with, kept in the users database: generated at first
 * start, reused after every restart. The newest key signs; every stored key verifies and is
 * published, so adding a key (rotation) does not invalidate tokens already issued.
 */
export class SigningKeys {
  private keys: SigningKeyRow[] = [];
  private reloadedAt = 0;
  /** A reload for an unknown kid under way, which the others that come meanwhile wait for. */
  private reloadingForKid: Promise<void> | undefined;
  private sign: ((payload: { sub: string; role: Role; gen: number }) => string) | undefined;
  private readonly sql: Sql;
  private readonly ttlSeconds: number;

  constructor(sql: Sql, ttlSeconds: number) {
    this.sql = sql;
    this.ttlSeconds = ttlSeconds;
  }

  /** Reads the stored keys, generating the first one on the first start of the first instance. */
  async load(): Promise<void> {
    if ((await allSigningKeys(this.sql)).length === 0) await insertSigningKey(this.sql, newSigningKey());
    await this.reload();
  }

  /**
   * A new signing key (rotation): stored, then signing every token this instance issues from
   * now on. Every key stays published in the JWKS, so tokens signed by an older key verify
   * until they expire; other instances sign with the new key from their next reload (`jobs`).
   */
  async rotate(): Promise<SigningKeyRow> {
    await insertSigningKey(this.sql, newSigningKey());
    await this.reload();
    return this.keys[0]!;
  }

  /** Keys another instance added (a rotation) sign here too from the next reload. */
  async reload(): Promise<void> {
    this.keys = await allSigningKeys(this.sql);
    this.reloadedAt = Date.now();
    // Instances starting together may each have stored a key; all pick the same newest one.
    const newest = this.keys[0];
    if (!newest) throw new Error('no signing key stored');
    const signer = createSigner({
      algorithm: TOKEN_ALGORITHM,
      key: newest.privateKey,
      kid: newest.kid,
      iss: TOKEN_ISSUER,
      aud: TOKEN_AUDIENCE,
      expiresIn: this.ttlSeconds * 1000,
    });
    this.sign = (payload) => signer(payload);
  }

  /** A token carries the account's token generation (claim gen): a password change revokes it. */
  issueToken(user: { id: string; role: Role; tokenGeneration: number }): { accessToken: string; expiresIn: number } {
    if (!this.sign) throw new Error('signing keys not loaded');
    return { accessToken: this.sign({ sub: user.id, role: user.role, gen: user.tokenGeneration }), expiresIn: this.ttlSeconds };
  }

  jwks(): { keys: PublicJwk[] } {
    return {
      keys: this.keys.map(({ kid, publicJwk }) => ({
        kty: publicJwk['kty']!,
        crv: publicJwk['crv']!,
        x: publicJwk['x']!,
        y: publicJwk['y']!,
        kid,
        alg: TOKEN_ALGORITHM,
        use: 'sig',
      })),
    };
  }

  /** The PEM public key of `kid`; an unknown kid may be a key another instance added since. */
  async publicKey(kid: string): Promise<string | undefined> {
    let key = this.keys.find((k) => k.kid === kid);
    // At most one lookup every 30 s, so tokens with made-up kids cannot hammer the database:
    // those that arrive while one is under way wait for it rather than start their own.
    if (!key && (this.reloadingForKid || Date.now() - this.reloadedAt > 30_000)) {
      this.reloadingForKid ??= this.reload().finally(() => (this.reloadingForKid = undefined));
      await this.reloadingForKid;
      key = this.keys.find((k) => k.kid === kid);
    }
    return (
      key &&
      createPublicKey({ key: { ...key.publicJwk }, format: 'jwk' })
        .export({ format: 'pem', type: 'spki' })
        .toString()
    );
  }
}
