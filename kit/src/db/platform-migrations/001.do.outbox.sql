-- The platform tables every service database has, whatever its domain.

-- The transactional outbox (Debezium's outbox pattern): a service inserts its event here in
-- the same transaction as the domain rows it describes; Debezium reads the insert from the
-- WAL and its EventRouter publishes it:
--   topic   = type (an event type is also its topic name, e.g. 'order-placed')
--   key     = aggregateid
--   headers = id, type
--   value   = payload, untouched (Avro in the Confluent wire format, encoded by the service)
CREATE TABLE outbox (
  id            uuid        PRIMARY KEY,
  aggregatetype text        NOT NULL,
  aggregateid   text        NOT NULL,
  type          text        NOT NULL CHECK (type ~ '^[a-z][a-z0-9-]*$'),
  payload       bytea       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Rows are only needed until Debezium has read them; pruning goes by age.
CREATE INDEX outbox_created_at_idx ON outbox (created_at);

-- The publication is created with the database (stack/config/postgres/service-db.sql) and
-- owned by this service's role; only inserts are published, so pruning emits nothing.
ALTER PUBLICATION outbox ADD TABLE outbox;

-- Idempotent consumers: a consumer records each event id it has applied in the same
-- transaction as the effects, so a redelivered event is recognised and skipped.
CREATE TABLE processed_events (
  consumer     text        NOT NULL,
  event_id     uuid        NOT NULL,
  topic        text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
