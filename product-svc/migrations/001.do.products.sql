-- The catalog. `stock` is what is still available to order; it can never go below zero.
-- `version` grows by one with every change: it is the ETag of optimistic concurrency and
-- orders the product-update events of one product for their consumers.
CREATE TABLE products (
  id          uuid        PRIMARY KEY,
  name        text        NOT NULL,
  description text        NOT NULL DEFAULT '',
  price_cents bigint      NOT NULL CHECK (price_cents >= 0),
  currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  stock       integer     NOT NULL CHECK (stock >= 0),
  active      boolean     NOT NULL DEFAULT true,
  version     integer     NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- The public listing: active products in creation order, paged by (created_at, id).
CREATE INDEX products_listing_idx ON products (created_at, id) WHERE active;
