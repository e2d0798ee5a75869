import { cursorPosition, pageAnswer, Problem, type HttpApp, type Sql } from '@shop/kit';
import type { NotificationRow } from '../data-access/notifications-repository.ts';
import { getNotification, listNotifications } from '../domain/notifications.ts';
import { ListQuery, Notification, NotificationPage, NotificationParams } from './schemas.ts';

const toNotification = (row: NotificationRow): Notification => ({
  id: row.eventId,
  kind: row.kind,
  subject: row.subject,
  body: row.body,
  occurredAt: row.occurredAt.toISOString(),
  status: row.status,
  sentAt: row.sentAt?.toISOString() ?? null,
  attempts: row.attempts,
});

const secured = [{ bearer: [] }];

export async function notificationRoutes(app: HttpApp, { sql }: { sql: Sql }): Promise<void> {
  app.get(
    '/notifications',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['notifications'],
        summary: 'Your notifications (the mails sent or to be sent to you), newest first, one page at a time',
        security: secured,
        querystring: ListQuery,
        response: { 200: NotificationPage, 400: Problem },
      },
    },
    async (request) => {
      const before = cursorPosition(request.query.cursor);
      const page = await listNotifications(sql, request.user.id, request.query.limit, before);
      return pageAnswer(page, toNotification);
    },
  );

  app.get(
    '/notifications/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['notifications'],
        summary: 'One of your notifications, by the id of its event',
        security: secured,
        params: NotificationParams,
        response: { 200: Notification, 400: Problem, 404: Problem },
      },
    },
    async (request) => toNotification(await getNotification(sql, request.user.id, request.params.id)),
  );
}
