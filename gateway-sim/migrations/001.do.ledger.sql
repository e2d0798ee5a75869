-- The processor's ledger: every charge and refund it ever made, kept so that "never charged
-- twice" can be checked after any restart. Idempotency keys are unique: a repeated request
-- finds its first result here instead of making a second charge.
CREATE TABLE charges (
  id              text        PRIMARY KEY,
  idempotency_key text        NOT NULL UNIQUE,
  reference       text        NOT NULL,
  amount_cents    bigint      NOT NULL CHECK (amount_cents > 0),
  currency        text        NOT NULL,
  token           text        NOT NULL,
  status          text        NOT NULL CHECK (status IN ('SUCCEEDED', 'DECLINED')),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charges_reference_idx ON charges (reference);

-- A charge is refunded at most once, in full: the unique charge_id enforces it.
CREATE TABLE refunds (
  id              text        PRIMARY KEY,
  charge_id       text        NOT NULL UNIQUE REFERENCES charges (id),
  idempotency_key text        NOT NULL UNIQUE,
  amount_cents    bigint      NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- How often each idempotency key of a `tok_flaky` charge has been tried: the first two
-- attempts fail with 503, whichever process or restart they reach.
CREATE TABLE flaky_attempts (
  idempotency_key text    PRIMARY KEY,
  attempts        integer NOT NULL
);
