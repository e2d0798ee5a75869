-- The notifications pruner (jobs/notifications-pruner.ts) deletes the done ones (sent, refused,
-- expired) older than NOTIFICATIONS_KEEP_MS, oldest first: this index finds them without a
-- scan of the whole table. On a large table, build it beforehand with CREATE INDEX
-- CONCURRENTLY under this name; IF NOT EXISTS then leaves it alone here.
CREATE INDEX IF NOT EXISTS notifications_done_by_age ON notifications (occurred_at) WHERE status <> 'PENDING';
