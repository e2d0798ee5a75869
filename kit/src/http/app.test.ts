import { Writable } from 'node:stream';
import { Type } from 'typebox';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from './app.ts';

/** An app whose log lines are kept, parsed, in `lines`. */
async function appWithLog() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = await createHttpApp({
    service: 'test-svc',
    version: '0.0.0',
    description: 'a test',
    logger: pino({ level: 'info' }, destination),
    resolveKey: async () => undefined,
    readiness: {},
  });
  return { app, lines };
}

describe('request logging', () => {
  it('writes one line per request, with what came in and what went out', async () => {
    const { app, lines } = await appWithLog();
    const live = await app.inject({ method: 'GET', url: '/health/live' });
    const missing = await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'from-the-caller' } });
    await app.close();

    const requestLines = lines.filter((line) => 'requestId' in line);
    expect(requestLines).toHaveLength(2);
    expect(requestLines[0]).toMatchObject({
      msg: 'request completed',
      requestId: live.headers['x-request-id'],
      req: { method: 'GET', url: '/health/live' },
      res: { statusCode: 200 },
    });
    expect(requestLines[0]?.['responseTime']).toBeTypeOf('number');
    expect(requestLines[1]).toMatchObject({ requestId: 'from-the-caller', req: { url: '/nowhere' }, res: { statusCode: 404 } });
    expect(missing.headers['x-request-id']).toBe('from-the-caller');
  });
});

describe('request validation', () => {
  /** An app with one route that echoes what passed validation. */
  async function echoApp() {
    const { app } = await appWithLog();
    app.post(
      '/echo/:id',
      {
        schema: {
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          querystring: Type.Object({ q: Type.Optional(Type.String()), from: Type.Optional(Type.String({ format: 'date-time' })) }),
          body: Type.Object({ name: Type.String(), tags: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }),
        },
      },
      async (request) => ({ id: request.params.id, query: request.query, body: request.body }),
    );
    return app;
  }
  const id = '0b6f1f0e-3a9a-4c47-9d0b-2f8e4b1c7d10';

  it('refuses a NUL character anywhere in the body, query or path with 400 VALIDATION_FAILED, naming where', async () => {
    const app = await echoApp();
    const cases = [
      { url: `/echo/${id}`, payload: { name: 'a\u0000b' }, where: 'body/name' },
      { url: `/echo/${id}`, payload: { name: 'ok', tags: ['fine', '\u0000'] }, where: 'body/tags/1' },
      { url: `/echo/${id}?q=x%00y`, payload: { name: 'ok' }, where: 'querystring/q' },
      { url: `/echo/${id}%00`, payload: { name: 'ok' }, where: 'params/id' },
    ];
    const answers = [];
    for (const { url, payload } of cases) answers.push(await app.inject({ method: 'POST', url, payload }));
    // As deep as 64 KiB of JSON nests: refused by the schema, not a stack overflow (a 500).
    const deep = await app.inject({
      method: 'POST',
      url: `/echo/${id}`,
      headers: { 'content-type': 'application/json' },
      payload: '['.repeat(32_000) + ']'.repeat(32_000),
    });
    const accepted = await app.inject({ method: 'POST', url: `/echo/${id}?q=x`, payload: { name: 'a b', tags: ['c'] } });
    await app.close();

    for (const [index, answer] of answers.entries()) {
      expect(answer.statusCode).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'VALIDATION_FAILED', detail: `${cases[index]!.where} must not contain a NUL character` });
    }
    expect(accepted.json()).toEqual({ id, query: { q: 'x' }, body: { name: 'a b', tags: ['c'] } });
    expect({ status: deep.statusCode, code: deep.json<{ code: string }>().code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('refuses a date-time that is no instant the database stores: a leap second, year 0000', async () => {
    const app = await echoApp();
    const answer = async (from: string) =>
      (await app.inject({ method: 'POST', url: `/echo/${id}?from=${encodeURIComponent(from)}`, payload: { name: 'n' } })).statusCode;
    const statuses = {
      leapSecond: await answer('2016-12-31T23:59:60Z'),
      yearZero: await answer('0000-01-01T00:00:00Z'),
      plain: await answer('2016-12-31T23:59:59Z'),
      offset: await answer('2026-01-02T03:04:05.678+01:00'),
    };
    await app.close();
    expect(statuses).toEqual({ leapSecond: 400, yearZero: 400, plain: 200, offset: 200 });
  });
});
