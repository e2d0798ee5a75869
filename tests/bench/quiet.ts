import type { Admin } from 'kafkajs';
import { groupLag, services, type Sql } from '@shop/kit';
import { until } from '../harness/client.ts';

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
