-- order-svc's own copies of the users and products it needs, fed by user-registration and
-- product-update: it never calls another service to place an order.
CREATE TABLE known_users (
  id            uuid        PRIMARY KEY,
  username      text        NOT NULL,
  registered_at timestamptz NOT NULL
);

-- The catalog as of the newest product-update seen: `version` keeps a late, older event from
-- overwriting a newer state.
CREATE TABLE catalog (
  product_id  uuid        PRIMARY KEY,
  name        text        NOT NULL,
  price_cents bigint      NOT NULL,
  currency    text        NOT NULL,
  active      boolean     NOT NULL,
  version     integer     NOT NULL
);

-- An order and the saga's progress: what payment-svc and product-svc reported. The status
-- leaves PENDING once, to CONFIRMED (both succeeded) or CANCELLED (either failed).
CREATE TABLE orders (
  id                     uuid        PRIMARY KEY,
  user_id                uuid        NOT NULL,
  status                 text        NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
  cancel_reason          text        CHECK (cancel_reason IN ('PAYMENT_DECLINED', 'OUT_OF_STOCK', 'PAYMENT_ERROR')),
  total_cents            bigint      NOT NULL,
  currency               text        NOT NULL,
  payment_token          text        NOT NULL,
  payment_outcome        text        CHECK (payment_outcome IN ('SUCCEEDED', 'CARD_DECLINED', 'PAYMENT_ERROR')),
  inventory_outcome      text        CHECK (inventory_outcome IN ('RESERVED', 'REJECTED')),
  -- Idempotency-Key of the POST that created it, and a hash of that request's body.
  idempotency_key        text,
  request_hash           text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'CANCELLED') = (cancel_reason IS NOT NULL))
);
CREATE UNIQUE INDEX orders_idempotency_key ON orders (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE order_items (
  order_id         uuid    NOT NULL REFERENCES orders (id),
  product_id       uuid    NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents bigint  NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, product_id)
);
