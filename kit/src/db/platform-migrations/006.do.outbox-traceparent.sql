-- The W3C traceparent of the transaction that wrote the event (null when it was not traced).
-- Debezium's EventRouter copies it into the record's `traceparent` header
-- (connect/outbox-connector.json, additional placement), and the consumer continues the
-- trace from it: one order is one trace across the outbox and CDC.
ALTER TABLE outbox ADD COLUMN traceparent text;
