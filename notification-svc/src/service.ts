// notification-svc: mails customers about their account, orders and refunds. Each consumed
// event becomes one recorded notification (exactly once, with the consumer's transaction);
// a periodic job sends them through SMTP to the address the user has at that moment.
import { Type } from 'typebox';
import { defineService, Port } from '@shop/kit';
import { notificationRoutes } from './api/routes.ts';
import { smtpMailer } from './data-access/smtp-mailer.ts';
import { notificationProblems } from './domain/problems.ts';
import { saveNotifications } from './domain/notifications.ts';
import { notificationEventHandlers } from './events/handlers.ts';
import { mailSender } from './jobs/mail-sender.ts';
import { notificationsPruner } from './jobs/notifications-pruner.ts';

/** notification-svc's own variables (the shared ones are in kit/src/service/config.ts). */
export const NotificationServiceEnvironment = Type.Object({
  SMTP_HOST: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'The SMTP server mails are handed to (MailDev in development)',
  }),
  SMTP_PORT: Port(1025),
  MAIL_FROM: Type.String({ minLength: 1, default: 'shop@localhost', description: 'The From address of every mail' }),
  MAIL_SEND_INTERVAL_MS: Type.Integer({
    minimum: 100,
    default: 1_000,
    description: 'Pause between two runs of the mail sender; a run sends every notification that is due',
  }),
  MAIL_SEND_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 16,
    default: 4,
    description:
      'Mails handed to the SMTP server at once, in one transaction; a crash after the server accepted them and before they were marked sent sends up to this many again',
  }),
  MAIL_RETRY_BASE_MS: Type.Integer({
    minimum: 100,
    default: 5_000,
    description: 'First pause before a failed mail is tried again; doubles at every failure',
  }),
  MAIL_RETRY_MAX_MS: Type.Integer({ minimum: 100, default: 600_000, description: 'Longest pause between two tries of a mail' }),
  MAIL_MAX_AGE_MS: Type.Integer({
    minimum: 60_000,
    default: 3 * 24 * 3_600_000,
    description: 'A notification still unsent this long after its event (address never known, SMTP down) is given up: EXPIRED',
  }),
  NOTIFICATIONS_KEEP_MS: Type.Integer({
    minimum: 60_000,
    default: 90 * 24 * 3_600_000,
    description: 'A notification that is done (sent, refused, expired) is deleted this long after its event; must exceed MAIL_MAX_AGE_MS',
  }),
});

export default defineService({
  name: 'notification-svc',
  version: '0.1.0',
  migrations: new URL('../migrations/', import.meta.url),
  environment: NotificationServiceEnvironment,
  problems: notificationProblems,
  setup: ({ env, config, sql, logger, metrics }) => {
    // A mail pruned before it could expire could be recorded again and sent twice.
    if (env.NOTIFICATIONS_KEEP_MS <= env.MAIL_MAX_AGE_MS) throw new Error('NOTIFICATIONS_KEEP_MS must exceed MAIL_MAX_AGE_MS');
    const mailer = smtpMailer({ host: env.SMTP_HOST, port: env.SMTP_PORT, from: env.MAIL_FROM, connections: env.MAIL_SEND_CONCURRENCY });
    const sender = mailSender(
      {
        sql,
        logger,
        mailer,
        concurrency: env.MAIL_SEND_CONCURRENCY,
        retry: { baseMs: env.MAIL_RETRY_BASE_MS, maxMs: env.MAIL_RETRY_MAX_MS },
        maxAgeMs: env.MAIL_MAX_AGE_MS,
      },
      metrics,
      env.MAIL_SEND_INTERVAL_MS,
    );
    return {
      routes: async (app) => {
        app.addHook('onClose', async () => mailer.close());
        await notificationRoutes(app, { sql });
      },
      handlers: notificationEventHandlers(),
      finishBatch: saveNotifications,
      jobs: [sender, notificationsPruner(sql, env.NOTIFICATIONS_KEEP_MS, metrics, config.housekeeping.intervalMs)],
    };
  },
});
