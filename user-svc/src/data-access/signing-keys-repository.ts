import type { Sql } from '@shop/kit';

export interface SigningKeyRow {
  kid: string;
  privateKey: string;
  publicJwk: Record<string, string>;
  createdAt: Date;
}

export function allSigningKeys(sql: Sql): Promise<SigningKeyRow[]> {
  return sql<SigningKeyRow[]>`
    select kid, private_key as "privateKey", public_jwk as "publicJwk", created_at as "createdAt"
    from signing_keys order by created_at desc, kid`;
}

export async function insertSigningKey(sql: Sql, key: Pick<SigningKeyRow, 'kid' | 'privateKey' | 'publicJwk'>): Promise<void> {
  await sql`
    insert into signing_keys (kid, private_key, public_jwk)
    values (${key.kid}, ${key.privateKey}, ${sql.json(key.publicJwk)})
    on conflict (kid) do nothing`;
}
