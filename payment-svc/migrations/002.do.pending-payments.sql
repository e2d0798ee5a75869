-- Charges and refunds the gateway has not answered definitely (a timeout, a lost connection,
-- a 5xx) are kept here rather than retried inside the event handler, which would hold every
-- order behind them on the partition. The retry job (src/domain/retries.ts) asks again under
-- the same idempotency key until the answer is definite.
--
--   CHARGE_PENDING  the charge's answer is unknown; the card token is kept to ask again
--   REFUND_PENDING  the order was cancelled and its money is not settled yet: a refund's
--                   answer is unknown, or (gateway_charge_id null) the ledger must first say
--                   whether a charge landed
--   REFUND_FAILED   the gateway refused the refund definitely (a 4xx) while it was retried:
--                   an operator's case (docs/operations.md)
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments
  ADD CONSTRAINT payments_status_check
    CHECK (status IN ('CHARGE_PENDING', 'SUCCEEDED', 'FAILED', 'REFUND_PENDING', 'REFUNDED', 'REFUND_FAILED')),
  -- The card token, only while a charge may still be asked again.
  ADD COLUMN payment_token   text,
  -- Tries of the charge, then (counted afresh) of the refund; an event handler's quick burst
  -- of calls is one try, each run of the retry job another.
  ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
  -- When the next try is due, and why the last one did not settle it.
  ADD COLUMN next_attempt_at timestamptz,
  ADD COLUMN last_error      text,
  -- When the last charge request without a definite answer ended (null once an answer was
  -- definite): until it has had time to land (a gateway timeout more), a ledger without the
  -- charge does not prove it never will.
  ADD COLUMN charge_unanswered_at timestamptz,
  ADD CONSTRAINT payments_pending_scheduled
    CHECK (status NOT IN ('CHARGE_PENDING', 'REFUND_PENDING') OR next_attempt_at IS NOT NULL),
  ADD CONSTRAINT payments_charge_pending_token
    CHECK (status <> 'CHARGE_PENDING' OR payment_token IS NOT NULL);

-- What the retry job reads on every tick: the due pending rows, oldest first.
CREATE INDEX payments_due ON payments (next_attempt_at) WHERE status IN ('CHARGE_PENDING', 'REFUND_PENDING');
