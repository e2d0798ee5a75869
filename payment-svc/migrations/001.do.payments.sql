-- One payment per order: the unique order_id is what makes "at most one charge per order"
-- a property of the data, not only of the code.
CREATE TABLE payments (
  id                uuid        PRIMARY KEY,
  order_id          uuid        NOT NULL UNIQUE,
  user_id           uuid        NOT NULL,
  amount_cents      bigint      NOT NULL,
  currency          text        NOT NULL,
  status            text        NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED', 'REFUNDED')),
  -- CARD_DECLINED, PAYMENT_ERROR, or ORDER_CANCELLED (cancelled before it was charged)
  failure_reason    text,
  gateway_charge_id text,
  gateway_refund_id text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Cancellations seen, also those that arrive before their order-placed: such an order is
-- then never charged.
CREATE TABLE cancelled_orders (
  order_id     uuid        PRIMARY KEY,
  reason       text        NOT NULL,
  cancelled_at timestamptz NOT NULL DEFAULT now()
);
