-- processed_events is pruned by age (kit/src/db/housekeeping.ts): every batch takes the
-- oldest rows past PROCESSED_EVENTS_KEEP_MS, which without this index is a scan of the whole
-- table. A plain CREATE INDEX inside the migration blocks the consumers' inserts while it
-- builds; for a large table, build it beforehand with CREATE INDEX CONCURRENTLY under this
-- name, and IF NOT EXISTS leaves it alone here.
CREATE INDEX IF NOT EXISTS processed_events_processed_at_idx ON processed_events (processed_at);
