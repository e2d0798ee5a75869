-- Debezium's role reads the outbox and nothing else. It used to be granted SELECT on every
-- table the service created (a default privilege), password hashes and signing keys
-- included; it needs only the tables of its publication: the outbox (and the heartbeat
-- table it writes, granted in 003). Revoked here for databases made before, and no longer
-- granted by the database bootstrap (stack/config/postgres/service-db.sql).
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM cdc;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM cdc;
GRANT SELECT ON outbox TO cdc;
GRANT SELECT, INSERT, DELETE ON debezium_heartbeat TO cdc;
