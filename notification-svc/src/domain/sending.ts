// Delivery of the recorded notifications: each in a transaction of its own that locks its
// row, hands the mail to SMTP and marks it sent; `concurrency` of them at once. The only way to
// get a mail twice is a crash (or a lost commit) after the server accepted it and before the
// mark committed: the row is then still PENDING and is sent once more, with the same
// Message-ID, so a crash sends at most `concurrency` mails twice (docs/architecture.md,
// "Notifications: one mail per event").
import type { Logger, Sql } from '@shop/kit';
import { expirePending, lockDueNotification, markFailed, markSent } from '../data-access/notifications-repository.ts';
import type { Mailer } from '../data-access/smtp-mailer.ts';
import { classifySmtpFailure, describeSmtpError, retryDelay, type RetrySettings } from './delivery.ts';
import { messageIdOf } from './mails.ts';

export type SendOutcome = 'sent' | 'retry' | 'failed';

export interface SenderDependencies {
  sql: Sql;
  mailer: Mailer;
  logger: Logger;
  retry: RetrySettings;
  /** Mails handed to SMTP at once, each in its own transaction (and over its own connection). */
  concurrency: number;
  /** Pending notifications older than this are given up (EXPIRED). */
  maxAgeMs: number;
  /** Called with each outcome, for the metrics. */
  record(outcome: SendOutcome | 'expired', count?: number): void;
}

type Step = SendOutcome | 'nothing due' | 'unreachable';

/** Sends the one next due notification, if there is one. */
async function sendNext({ sql, mailer, logger, retry }: SenderDependencies): Promise<Step> {
  return sql.begin(async (tx): Promise<Step> => {
    const due = await lockDueNotification(tx);
    if (!due) return 'nothing due';
    const to = { name: due.fullName ?? '', address: due.email };
    try {
      await mailer.send({ to, subject: due.subject, text: due.body, messageId: messageIdOf(due.eventId) });
    } catch (error) {
      const failure = classifySmtpFailure(error);
      const detail = describeSmtpError(error);
      const retryInMs = failure === 'permanent' ? undefined : retryDelay(due.attempts + 1, retry);
      await markFailed(tx, due.eventId, detail, retryInMs);
      logger.warn(
        { eventId: due.eventId, attempts: due.attempts + 1, failure, retryInMs, err: error },
        failure === 'permanent' ? 'the SMTP server refused a mail for good' : 'sending a mail failed; it is tried again later',
      );
      if (failure === 'unreachable') return 'unreachable';
      return failure === 'permanent' ? 'failed' : 'retry';
    }
    await markSent(tx, due.eventId, due.email);
    return 'sent';
  });
}

/**
 * One run of the sender: gives up what is too old, then sends due notifications until none is
 * left, the SMTP server cannot be reached (the rest would fail the same way; the next run tries
 * again), or the service closes. `concurrency` workers send at once, each one mail at a time:
 * one after the other, each mail's round trips to PostgreSQL and to the SMTP server left the
 * sender behind 100 orders/s (tests/bench/README.md).
 */
export async function sendDueNotifications(dependencies: SenderDependencies, signal: AbortSignal): Promise<void> {
  const expired = await expirePending(dependencies.sql, dependencies.maxAgeMs);
  if (expired > 0) {
    dependencies.record('expired', expired);
    dependencies.logger.warn({ expired, maxAgeMs: dependencies.maxAgeMs }, 'notifications given up: not sent within MAIL_MAX_AGE_MS');
  }
  let unreachable = false;
  const worker = async (): Promise<void> => {
    while (!signal.aborted && !unreachable) {
      const step = await sendNext(dependencies);
      if (step === 'nothing due') return;
      dependencies.record(step === 'unreachable' ? 'retry' : step);
      if (step === 'unreachable') unreachable = true;
    }
  };
  await Promise.all(Array.from({ length: dependencies.concurrency }, worker));
}
