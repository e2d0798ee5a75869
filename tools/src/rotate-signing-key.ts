// make rotate-keys: asks user-svc, as the admin account (ADMIN_USERNAME / ADMIN_PASSWORD), for
// a new signing key. New tokens are signed with it at once (by other user-svc instances from
// their next key reload); tokens signed before keep verifying until they expire, because
// every stored key stays in the JWKS. docs/security.md says when an old key may be removed.
import { serviceUrl } from '@shop/kit';
import { fetchFrom } from './http.ts';
import { runCommand, writeLine } from './inspect.ts';

await runCommand('rotate-keys', async () => {
  const users = serviceUrl('user-svc');
  const credentials = { username: process.env['ADMIN_USERNAME'] ?? 'admin', password: process.env['ADMIN_PASSWORD'] ?? '' };
  const login = await fetchFrom('user-svc', `${users}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (!login.ok) throw new Error(`logging in as ${credentials.username}: ${login.status} ${await login.text()}`);
  const { accessToken } = (await login.json()) as { accessToken: string };
  const rotated = await fetchFrom('user-svc', `${users}/admin/signing-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (rotated.status !== 201) throw new Error(`rotating the signing key: ${rotated.status} ${await rotated.text()}`);
  const key = (await rotated.json()) as { kid: string; createdAt: string };
  await writeLine(`new signing key ${key.kid} (${key.createdAt})`);
  // The rotation is done; the JWKS count is only a report of it, and its failure must not read as the rotation's.
  const jwks = await fetchFrom('user-svc', `${users}/.well-known/jwks.json`);
  const keys = jwks.ok ? ((await jwks.json()) as { keys?: unknown[] }).keys : undefined;
  await writeLine(
    keys ? `the JWKS publishes ${keys.length} keys` : `the JWKS could not be read (${jwks.status}); the key is rotated all the same`,
  );
});
