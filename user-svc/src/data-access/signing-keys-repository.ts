import type { Sql } from '@shop/kit';
import type { SigningKeyRow } from '../domain/signing-keys.ts';

export function allSigningKeys(sql: Sql): Promise<SigningKeyRow[]> {
  return sql<SigningKeyRow[]>`select kid, private_key, public_jwk, created_at from signing_keys order by created_at desc, kid`;
}

export async function insertSigningKey(sql: Sql, key: Pick<SigningKeyRow, 'kid' | 'privateKey' | 'publicJwk'>): Promise<void> {
  await sql`
    insert into signing_keys ${sql({ ...key, publicJwk: sql.json(key.publicJwk) }, 'kid', 'privateKey', 'publicJwk')}
    on conflict (kid) do nothing`;
}
