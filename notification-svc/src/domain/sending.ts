// Delivery of the recorded notifications, `concurrency` at a time in one transaction: lock
// that many due rows, hand their mails to SMTP at once (each over its own pooled connection),
// mark what happened to each, commit. The only way to get a mail twice is a crash (or a lost
// commit) after the server accepted it and before the marks committed: the rows are then still
// PENDING and sent once more, with the same Message-ID, so a crash sends at most `concurrency`
// mails twice (docs/architecture.md, "Notifications: one mail per event").
import { backoffDelay, type BackoffSettings, type Logger, type Sql } from '@shop/kit';
import { expirePending, lockDueNotifications, markFailed, markSent } from '../data-access/notifications-repository.ts';
import type { Mailer } from '../data-access/smtp-mailer.ts';
import { classifySmtpFailure, describeSmtpError } from './delivery.ts';
import { messageIdOf } from './mails.ts';

export type SendOutcome = 'sent' | 'retry' | 'failed';

export interface SenderDependencies {
  sql: Sql;
  mailer: Mailer;
  logger: Logger;
  retry: BackoffSettings;
  /** Mails handed to SMTP at once (each over its own connection), in one transaction. */
  concurrency: number;
  /** Pending notifications older than this are given up (EXPIRED). */
  maxAgeMs: number;
  /** Called with each outcome, for the metrics. */
  record(outcome: SendOutcome | 'expired', count?: number): void;
}

/** What became of the mails of one batch, in the order they were locked; empty when nothing was due. */
interface BatchOutcome {
  outcomes: SendOutcome[];
  /** The SMTP server could not be reached for one of them: the rest of the run would fail the same way. */
  unreachable: boolean;
}

/** Sends the next due notifications, up to `concurrency` of them, in one transaction. */
async function sendNextBatch({ sql, mailer, logger, retry, concurrency, maxAgeMs }: SenderDependencies): Promise<BatchOutcome> {
  return sql.begin(async (tx): Promise<BatchOutcome> => {
    // Never one older than MAIL_MAX_AGE_MS, though it may not have been expired yet (recorded
    // during this run, say from a compacted topic read again after its row was pruned).
    const due = await lockDueNotifications(tx, concurrency, maxAgeMs);
    const results = await Promise.allSettled(
      due.map((notification) =>
        mailer.send({
          to: { name: notification.fullName ?? '', address: notification.email },
          subject: notification.subject,
          text: notification.body,
          messageId: messageIdOf(notification.eventId),
        }),
      ),
    );
    const sent = due.filter((_, index) => results[index]!.status === 'fulfilled');
    // The mails the server took are marked first, so that nothing after can undo the marks
    // and have them sent again.
    if (sent.length > 0) {
      await markSent(
        tx,
        sent.map((notification) => ({ eventId: notification.eventId, sentTo: notification.email })),
      );
    }
    const batch: BatchOutcome = { outcomes: [], unreachable: false };
    for (const [index, result] of results.entries()) {
      const notification = due[index]!;
      if (result.status === 'fulfilled') {
        batch.outcomes.push('sent');
        continue;
      }
      // A failure is rare, so it costs a statement of its own: its retry time is the mail's own.
      // In a savepoint: should the mark itself fail, it leaves the mail due (tried again next
      // run) rather than rolling back the marks of the mails that went out.
      const error: unknown = result.reason;
      const failure = classifySmtpFailure(error);
      const retryInMs = failure === 'permanent' ? undefined : backoffDelay(notification.attempts + 1, retry);
      await tx
        .savepoint((sp) => markFailed(sp, notification.eventId, describeSmtpError(error), retryInMs))
        .catch((markError: unknown) => logger.error({ eventId: notification.eventId, err: markError }, "a failed mail's mark failed"));
      logger.warn(
        { eventId: notification.eventId, attempts: notification.attempts + 1, failure, retryInMs, err: error },
        failure === 'permanent' ? 'the SMTP server refused a mail for good' : 'sending a mail failed; it is tried again later',
      );
      batch.outcomes.push(failure === 'permanent' ? 'failed' : 'retry');
      if (failure === 'unreachable') batch.unreachable = true;
    }
    return batch;
  });
}

/** How often a run that keeps finding full batches gives up what is too old, besides at its start. */
const EXPIRE_EVERY_MS = 60_000;

async function expireTooOld(dependencies: SenderDependencies): Promise<void> {
  const { sql, maxAgeMs, logger } = dependencies;
  const expired = await expirePending(sql, maxAgeMs);
  if (expired > 0) {
    dependencies.record('expired', expired);
    logger.warn({ expired, maxAgeMs }, 'notifications given up: not sent within MAIL_MAX_AGE_MS');
  }
}

/**
 * One run of the sender: gives up what is too old, then sends due notifications, a batch at a
 * time, until a batch is short of full (nothing else was due), the SMTP server cannot be
 * reached (the rest would fail the same way; the next run tries again), or the service closes.
 * A run under a steady flow of mails may never end, so it gives up what is too old every
 * minute too. A batch's mails share a transaction and its round trips to PostgreSQL: with a
 * transaction of its own, each mail cost four (tests/bench/README.md).
 */
export async function sendDueNotifications(dependencies: SenderDependencies, signal: AbortSignal): Promise<void> {
  await expireTooOld(dependencies);
  let expiredAt = Date.now();
  while (!signal.aborted) {
    if (Date.now() - expiredAt >= EXPIRE_EVERY_MS) {
      await expireTooOld(dependencies);
      expiredAt = Date.now();
    }
    const { outcomes, unreachable } = await sendNextBatch(dependencies);
    for (const outcome of outcomes) dependencies.record(outcome);
    // A batch short of full took every due row there was (but those another sender holds).
    if (outcomes.length < dependencies.concurrency || unreachable) return;
  }
}
