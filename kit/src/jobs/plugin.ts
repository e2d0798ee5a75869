import { setTimeout as sleep } from 'node:timers/promises';
import fp from 'fastify-plugin';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../kafka/client.ts';

/**
 * Work a service does on a timer rather than in answer to a request or an event: pruning
 * tables, retrying a call whose answer was lost, resolving overdue orders. A run that throws
 * is logged and tried again at the next tick: the jobs wait out an outage like the consumer.
 */
export interface PeriodicJob {
  /** Names the job in logs and metrics: `outbox-pruner`, `order-deadline`. */
  name: string;
  /** Pause between the end of one run and the start of the next. */
  everyMs: number;
  /** One run. `signal` aborts when the app closes: long runs should stop between batches. */
  run(signal: AbortSignal): Promise<void>;
}

export interface JobsPluginOptions {
  jobs: PeriodicJob[];
  metrics: Registry;
}

/** Runs one job until the signal aborts; never overlaps two runs of it. */
async function loop(job: PeriodicJob, signal: AbortSignal, logger: Logger, failures: Counter<'job'>): Promise<void> {
  while (!signal.aborted) {
    try {
      await job.run(signal);
    } catch (error) {
      if (signal.aborted) return;
      failures.inc({ job: job.name });
      logger.warn({ err: error, job: job.name }, 'a periodic job failed; it runs again at its next tick');
    }
    await sleep(job.everyMs, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * The service's periodic jobs: they start once the server listens (like the consumer, and
 * after the migrations) and stop when the app closes, before the database plugin closes the
 * pool, waiting for the run in hand.
 */
export const jobs = fp<JobsPluginOptions>(
  async (app, { jobs: list, metrics }) => {
    const failures = new Counter({
      name: 'job_failures_total',
      help: 'Runs of a periodic job that threw (retried at the next tick)',
      labelNames: ['job'] as const,
      registers: [metrics],
    });
    const stopping = new AbortController();
    let running: Promise<void>[] = [];
    app.addHook('onListen', async () => {
      running = list.map((job) => loop(job, stopping.signal, app.log, failures));
    });
    app.addHook('onClose', async () => {
      stopping.abort();
      await Promise.all(running);
    });
  },
  { name: 'jobs', dependencies: ['database'] },
);
