-- Stock held for orders. One row per order makes "reserve once, release once" a property of
-- the data: RESERVED → RELEASED happens once; REJECTED and CANCELLED_EARLY (the cancellation
-- arrived before the order) never take stock.
CREATE TABLE reservations (
  order_id   uuid        PRIMARY KEY,
  status     text        NOT NULL CHECK (status IN ('RESERVED', 'REJECTED', 'RELEASED', 'CANCELLED_EARLY')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_items (
  order_id   uuid    NOT NULL REFERENCES reservations (order_id),
  product_id uuid    NOT NULL REFERENCES products (id),
  quantity   integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id)
);
