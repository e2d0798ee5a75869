-- notification-svc's copy of each user's contact details, fed by user-registration (version 1)
-- and user-updated (after.version): a mail goes to the address the user has when it is sent.
-- `version` keeps a late, older event from overwriting a newer address.
CREATE TABLE recipients (
  user_id   uuid    PRIMARY KEY,
  username  text    NOT NULL,
  email     text    NOT NULL,
  full_name text,
  version   integer NOT NULL
);

-- One row per event worth a mail, rendered when the event is consumed (in the consumer's
-- transaction, so exactly once), and sent later by the mail sender job. The event id is the
-- key: a redelivered event finds its row, and it is the mail's Message-ID.
CREATE TABLE notifications (
  event_id        uuid        PRIMARY KEY,
  user_id         uuid        NOT NULL,
  kind            text        NOT NULL CHECK (kind IN ('WELCOME', 'ORDER_CONFIRMED', 'ORDER_CANCELLED', 'PAYMENT_REFUNDED')),
  subject         text        NOT NULL,
  body            text        NOT NULL,
  -- When what the mail tells happened (the event's own time): the listing's order.
  occurred_at     timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- The sent log. PENDING until the SMTP server accepted the mail (SENT), it refused it for
  -- good (FAILED, a 5xx answer), or it could not be sent within MAIL_MAX_AGE_MS (EXPIRED).
  status          text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'EXPIRED')),
  sent_at         timestamptz,
  -- The address it went to: the recipient's at the time of sending.
  sent_to         text,
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  CHECK ((status = 'SENT') = (sent_at IS NOT NULL))
);
-- GET /notifications: a user's, newest first.
CREATE INDEX notifications_by_user ON notifications (user_id, occurred_at DESC, event_id DESC);
-- The sender's work: the pending rows that are due.
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE status = 'PENDING';
