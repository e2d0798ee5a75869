// The mail sender: the notifications the consumer recorded go out from here, on a timer,
// never from the consumer. A slow or absent SMTP server delays mails, and only mails: the
// consumer goes on recording them, and each mail is retried with backoff until it is sent,
// refused for good, or too old (MAIL_MAX_AGE_MS).
import { Counter, type PeriodicJob, type Registry } from '@shop/kit';
import { sendDueNotifications, type SenderDependencies } from '../domain/sending.ts';

export function mailSender(dependencies: Omit<SenderDependencies, 'record'>, metrics: Registry, everyMs: number): PeriodicJob {
  const mails = new Counter({
    name: 'notification_mails_total',
    help: 'Mail attempts by outcome: sent, retry (failed, tried again later), failed (refused for good), expired (given up unsent)',
    labelNames: ['outcome'] as const,
    registers: [metrics],
  });
  const record: SenderDependencies['record'] = (outcome, count = 1) => mails.inc({ outcome }, count);
  return {
    name: 'mail-sender',
    everyMs,
    run: (signal) => sendDueNotifications({ ...dependencies, record }, signal),
  };
}
