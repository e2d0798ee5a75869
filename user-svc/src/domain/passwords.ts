import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// scrypt is memory-hard: each guess costs 128·N·r bytes (32 MiB here) as well as time, which
// is what makes offline guessing on GPUs expensive. Parameters are stored with each hash, so
// they can be raised later without invalidating existing passwords.
const parameters = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 256 * options.N! * options.r! }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N=32768,r=8,p=1$<salt>$<hash>`, base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, parameters);
  const { N, r, p } = parameters;
  return `scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, params, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !params || !salt || !hash) return false;
  const options = Object.fromEntries(
    params
      .split(',')
      .map((pair) => pair.split('='))
      .map(([k, v]) => [k, Number(v)]),
  ) as ScryptOptions;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), options);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// Verifying against a hash of nothing when the account does not exist makes a wrong username
// take as long as a wrong password, so response times do not reveal which accounts exist.
const decoy = hashPassword(randomBytes(16).toString('hex'));
export async function spendVerificationTime(password: string): Promise<void> {
  await verifyPassword(password, await decoy);
}
