import { Writable } from 'node:stream';
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
