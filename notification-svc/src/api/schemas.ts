import { Type, type Static } from 'typebox';
import { notificationKinds } from '../domain/mails.ts';

const Uuid = Type.String({ format: 'uuid' });

export const NotificationParams = Type.Object({ id: Uuid });

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const Notification = Type.Object({
  id: Type.String({ format: 'uuid', description: "The id of the event it tells about; also the mail's Message-ID, <id@shop.local>" }),
  kind: Type.Enum([...notificationKinds]),
  subject: Type.String(),
  body: Type.String({ description: "The mail's plain text" }),
  occurredAt: Type.String({ format: 'date-time', description: "When what it tells happened (the event's time); the listing's order" }),
  status: Type.Enum(['PENDING', 'SENT', 'FAILED', 'EXPIRED'], {
    description: 'PENDING until the mail server accepted it (SENT), refused it for good (FAILED), or it was given up unsent (EXPIRED)',
  }),
  sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  attempts: Type.Integer({ description: 'Tries at sending it so far' }),
});
export type Notification = Static<typeof Notification>;

export const NotificationPage = Type.Object({ items: Type.Array(Notification), nextCursor: Type.Union([Type.String(), Type.Null()]) });
