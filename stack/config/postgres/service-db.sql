-- Run inside each platform database (one whose service produces or consumes events, see
-- services.ts) as superuser, by bootstrap.sh.
-- The outbox publication exists from the start, owned by the service's role, so that the
-- Debezium connector can be registered before the service has migrated; the service's
-- first migration adds its outbox table to it. A consumer that produces nothing
-- (notification-svc) has the publication too, unread: no connector, no replication slot, so
-- it holds no WAL back; it is there so that the platform migrations are the same everywhere. Only INSERTs are published: the outbox is
-- append-only for Debezium, and deleting old rows (retention) must not produce events.
-- Variable: owner (the service role, which is also the database name).
\set ON_ERROR_STOP on

SELECT 'CREATE PUBLICATION outbox WITH (publish = ''insert'')'
 WHERE NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'outbox') \gexec
ALTER PUBLICATION outbox OWNER TO :"owner";

-- Debezium's role, cdc, is granted the outbox alone, by the platform migrations that create
-- it (kit/src/db/platform-migrations/005): it can read no other table of the database.
