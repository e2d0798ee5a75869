-- What keeps an idle database's replication slot moving. A slot advances only when its
-- connector confirms a position, and Debezium confirms only positions of changes it has
-- received from its publication. The WAL is shared by the whole server, so while other
-- databases write, an idle database's slot would pin all of it. The connector's
-- heartbeat.action.query (connect/outbox-connector.json) replaces the one row of this table
-- every 10 s; the insert is published (inserts only, like the outbox), Debezium receives it,
-- drops it (only the outbox is routed to topics) and confirms its position.
-- (A logical message, pg_logical_emit_message, was tried first: after a connector restart
-- Debezium did not confirm past it, and tests/integration/slots.test.ts caught a slot stuck.)
CREATE TABLE debezium_heartbeat (
  beat_at timestamptz NOT NULL
);
ALTER PUBLICATION outbox ADD TABLE debezium_heartbeat;
-- The connector runs the heartbeat query as its own role.
GRANT INSERT, DELETE ON debezium_heartbeat TO cdc;
