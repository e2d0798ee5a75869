import type { Admin } from 'kafkajs';
import { groupLag, services, type Sql } from '@shop/kit';
import { until } from '../harness/client.ts';
import { connectAsSuperuser } from '../harness/stack.ts';

/**
 * Waits until the stack has nothing left to do: every consumer group has read its topics to
 * the end and no mail waits to be sent. Measuring before that would charge the idle stack, or
 * the next step, with an earlier burst's work.
 */
export async function untilQuiet(kafkaAdmin: Admin, notifications: Sql, log: (line: string) => void): Promise<void> {
  const outstanding = async () => {
    let work = 0;
    for (const service of services) work += Number(await groupLag(kafkaAdmin, service.group, service.consumes));
    const [mails] = await notifications<[{ waiting: number }]>`
      select count(*)::int as waiting from notifications where status = 'PENDING' and next_attempt_at <= now()`;
    return work + mails.waiting;
  };
  await until('the stack to be quiet', outstanding, (work) => work === 0, 180_000).catch((error: unknown) =>
    log(`${(error as Error).message}: the figures that follow include that work`),
  );
}

/**
 * untilQuiet, then VACUUM (ANALYZE) in every database of the cluster (pgbench's scratch database
 * too), so that autovacuum has nothing left of an earlier burst to do. Its workers woke at times
 * of their own after the peak's bursts, and PostgreSQL took 0.3–13.8% of a core in the idle
 * window after them (README, "The peak's autovacuum"): the idle subtraction took that from every
 * step, and what was left went to the first step.
 */
export async function settle(kafkaAdmin: Admin, notifications: Sql, log: (line: string) => void): Promise<void> {
  await untilQuiet(kafkaAdmin, notifications, log);
  const started = Date.now();
  const cluster = connectAsSuperuser('postgres', 1);
  const databases = await cluster<{ datname: string }[]>`select datname from pg_database where datallowconn and not datistemplate`;
  await cluster.end();
  for (const { datname } of databases) {
    const superuser = connectAsSuperuser(datname, 1);
    try {
      await superuser`vacuum (analyze)`;
    } finally {
      await superuser.end();
    }
  }
  log(`vacuumed and analyzed ${databases.length} databases in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
