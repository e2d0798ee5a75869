import { generateKeyPairSync } from 'node:crypto';
import { beforeEach, expect, it, vi } from 'vitest';
import type { Sql } from '@shop/kit';
import { SigningKeys, type SigningKeyRow } from './signing-keys.ts';

// The stored keys, read through the repository, which this unit test stands in for.
const store = vi.hoisted(() => ({ keys: [] as SigningKeyRow[], reads: 0, release: Promise.resolve() }));
vi.mock('../data-access/signing-keys-repository.ts', () => ({
  allSigningKeys: async () => {
    store.reads += 1;
    await store.release;
    return store.keys;
  },
  insertSigningKey: async () => {},
}));

function storedKey(kid: string): SigningKeyRow {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    kid,
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! },
    createdAt: new Date(),
  };
}

beforeEach(() => {
  store.keys = [storedKey('known')];
  store.reads = 0;
  store.release = Promise.resolve();
});

it('reads the keys once for a burst of tokens with unknown kids, not once per token', async () => {
  const keys = new SigningKeys({} as Sql, 900);
  await keys.load();
  vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 60_000); // past the 30 s since the load
  let open!: () => void;
  store.release = new Promise<void>((resolve) => (open = resolve));
  const readsBefore = store.reads;
  const lookups = Array.from({ length: 50 }, (_, i) => keys.publicKey(`made-up-${i}`));
  open();
  expect(await Promise.all(lookups)).toEqual(Array(50).fill(undefined));
  expect(store.reads - readsBefore).toBe(1);
  vi.restoreAllMocks();
});

it('finds a key another instance added, by reading the keys again', async () => {
  const keys = new SigningKeys({} as Sql, 900);
  await keys.load();
  store.keys = [storedKey('rotated'), ...store.keys];
  vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 60_000);
  expect(await keys.publicKey('rotated')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  vi.restoreAllMocks();
});
