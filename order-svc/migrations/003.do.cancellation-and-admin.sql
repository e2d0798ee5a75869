-- A customer may cancel their order, and an admin any order: PENDING (the saga's steps that
-- already happened are compensated) or CONFIRMED (refunded, its stock released).
ALTER TABLE orders
  DROP CONSTRAINT orders_cancel_reason_check,
  ADD CONSTRAINT orders_cancel_reason_check CHECK (cancel_reason IN (
    'PAYMENT_DECLINED', 'OUT_OF_STOCK', 'PAYMENT_ERROR', 'TIMED_OUT', 'CUSTOMER_CANCELLED', 'ADMIN_CANCELLED'));

-- The admin's listing across users: newest first, optionally of one status.
CREATE INDEX orders_by_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders (status, created_at DESC, id DESC);

-- The copy of each user follows user-updated too (email, full name, disabled), not only
-- user-registration; `version` keeps a late, older state from overwriting a newer one.
ALTER TABLE known_users
  ADD COLUMN email     text,
  ADD COLUMN full_name text,
  ADD COLUMN disabled  boolean NOT NULL DEFAULT false,
  ADD COLUMN version   integer NOT NULL DEFAULT 1;
