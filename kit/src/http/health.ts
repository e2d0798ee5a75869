import fp from 'fastify-plugin';
import { Type } from 'typebox';

/** A readiness check: resolves when its dependency is usable, throws (with the reason) when not. */
export type ReadinessCheck = () => Promise<void>;

const HealthReport = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('ready'), Type.Literal('not-ready')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout(check: ReadinessCheck): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref();
  });
  return Promise.race([check(), timedOut]).finally(() => clearTimeout(timer));
}

/**
 * `GET /health/live`: the process answers (restart it if not). `GET /health/ready`: every
 * dependency answers (send it traffic only if so) — 503 with the failing checks otherwise.
 * Once the app is closing, Fastify answers every request, these too, with 503 itself.
 */
export const health = fp<{ checks: Record<string, ReadinessCheck> }>(
  async (app, { checks }) => {
    app.get('/health/live', { schema: { tags: ['health'], response: { 200: HealthReport } } }, async () => ({ status: 'ok' as const }));

    app.get(
      '/health/ready',
      { schema: { tags: ['health'], response: { 200: HealthReport, 503: HealthReport } } },
      async (_request, reply) => {
        const names = Object.keys(checks);
        const results = await Promise.allSettled(names.map((name) => withTimeout(checks[name]!)));
        const report: Record<string, string> = {};
        let ready = true;
        results.forEach((result, i) => {
          report[names[i]!] = result.status === 'fulfilled' ? 'up' : `down: ${(result.reason as Error).message}`;
          if (result.status === 'rejected') ready = false;
        });
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks: report });
      },
    );
  },
  { name: 'health' },
);
