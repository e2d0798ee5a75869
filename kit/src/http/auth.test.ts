import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jwksKeyResolver } from './auth.ts';

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A stand-in for user-svc's JWKS endpoint on loopback, answering each request as `answer` says when it arrives. */
async function jwksServer() {
  const requests: { response: ServerResponse }[] = [];
  const server = {
    answer: 'jwks' as 'jwks' | 'error' | 'hold',
    /** The key set served. */
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'ES256' }] as object[],
    requests,
    url: '',
    close: () => {
      http.closeAllConnections();
      return new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  const http = createServer((_request: IncomingMessage, response: ServerResponse) => {
    requests.push({ response });
    if (server.answer === 'jwks')
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: server.keys }));
    if (server.answer === 'error') response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return server;
}

describe('jwksKeyResolver', () => {
  let server: Awaited<ReturnType<typeof jwksServer>>;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-07T10:00:00Z') });
    server = await jwksServer();
  });
  afterEach(async () => {
    await server.close();
    vi.useRealTimers();
  });

  it('answers a known key at once when its key set is old, and reads the set again behind the request', async () => {
    const resolve = jwksKeyResolver(server.url);
    expect(await resolve('k1')).toContain('BEGIN PUBLIC KEY');
    expect(server.requests).toHaveLength(1);

    vi.setSystemTime(Date.now() + 11 * 60_000);
    server.answer = 'hold';
    // user-svc hangs: the key is still answered while the read behind it waits.
    expect(await resolve('k1')).toContain('BEGIN PUBLIC KEY');
    await vi.waitUntil(() => server.requests.length === 2);
    expect(server.requests[1]!.response.writableEnded).toBe(false);
    // Requests meanwhile share that read rather than starting their own.
    expect(await resolve('k1')).toContain('BEGIN PUBLIC KEY');
    expect(server.requests).toHaveLength(2);
  });

  it('tries a failed read again at most every 5 s, while known keys keep verifying and unknown ones are answered 503', async () => {
    const resolve = jwksKeyResolver(server.url);
    await resolve('k1');
    vi.setSystemTime(Date.now() + 11 * 60_000);
    server.answer = 'error';
    expect(await resolve('k1')).toContain('BEGIN PUBLIC KEY');
    await vi.waitUntil(() => server.requests.length === 2 && server.requests[1]!.response.writableFinished);
    // Time for the resolver to take the answer in (a real wait: only Date is faked).
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 20; i++) expect(await resolve('k1')).toContain('BEGIN PUBLIC KEY');
    // An unknown kid meanwhile: the key set is what is unknown, so 503 (retry), not "bad token".
    await expect(resolve('unknown')).rejects.toMatchObject({ status: 503, code: 'AUTH_UNAVAILABLE' });
    expect(server.requests).toHaveLength(2);

    vi.setSystemTime(Date.now() + 5_000);
    await expect(resolve('unknown')).rejects.toMatchObject({ status: 503, code: 'AUTH_UNAVAILABLE' });
    expect(server.requests).toHaveLength(3);
  });

  it('has a token issued after the last read, with a kid it did not hold, wait for the next read, shared, rather than be refused', async () => {
    const resolve = jwksKeyResolver(server.url);
    await expect(resolve('made-up')).resolves.toBeUndefined();
    expect(server.requests).toHaveLength(1);
    // A rotation now: k2 joins the key set, and signs at once.
    const { publicKey: rotated } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    server.keys.push({ ...rotated.export({ format: 'jwk' }), kid: 'k2' });
    // 4.8 of the 5 s pass (Date only is faked): the read is due 200 ms of real time from now.
    vi.setSystemTime(Date.now() + 4_800);
    const issuedNow = Date.now();
    const [first, second] = await Promise.all([resolve('k2', issuedNow), resolve('k2', issuedNow)]);
    expect(first).toContain('BEGIN PUBLIC KEY');
    expect(second).toBe(first);
    expect(server.requests).toHaveLength(2);
  });

  it('refuses at once, without a read, an unknown kid on a token issued before the last read started', async () => {
    const resolve = jwksKeyResolver(server.url);
    const issuedBefore = Date.now() - 60_000;
    await expect(resolve('made-up-1', issuedBefore)).resolves.toBeUndefined();
    vi.setSystemTime(Date.now() + 1_000);
    const started = performance.now();
    await expect(resolve('made-up-2', issuedBefore)).resolves.toBeUndefined();
    await expect(resolve('made-up-3')).resolves.toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(server.requests).toHaveLength(1);
  });
});
