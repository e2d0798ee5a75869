-- An order still PENDING at its deadline (ORDER_DEADLINE_MS) is cancelled TIMED_OUT: a saga
-- step was dead-lettered or never answered, and the order must not wait for it for ever.
ALTER TABLE orders
  DROP CONSTRAINT orders_cancel_reason_check,
  ADD CONSTRAINT orders_cancel_reason_check CHECK (cancel_reason IN ('PAYMENT_DECLINED', 'OUT_OF_STOCK', 'PAYMENT_ERROR', 'TIMED_OUT'));

-- The deadline check looks for the oldest PENDING orders every few seconds; PENDING orders
-- are few (they become final within seconds), so this index stays small however many
-- orders there are.
CREATE INDEX orders_pending_by_age ON orders (created_at) WHERE status = 'PENDING';
