-- The outages of the test cards that never answer definitely: tok_unavailable's charges (by
-- idempotency key, from its first attempt) and tok_refund_unavailable's refunds (by charge,
-- from the charge). While ended_at is null, the call answers 503. Nothing sets it: an outage
-- lasts for ever, unless someone ends it by hand (the integration tests do, to watch
-- payment-svc finish what it kept retrying).
CREATE TABLE charge_outages (
  idempotency_key text        PRIMARY KEY,
  started_at      timestamptz NOT NULL DEFAULT now(),
  ended_at        timestamptz
);

CREATE TABLE refund_outages (
  charge_id  text        PRIMARY KEY REFERENCES charges (id),
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at   timestamptz
);
