-- An account's standing and its changes (user-updated carries before and after):
--   disabled_at       set by an admin; the account's tokens and new orders are refused from then on
--   token_generation  raised by a password change; tokens carry the generation they were issued
--                     in (claim gen), and one of an older generation is refused everywhere
--   version           1 at registration, one more at every change, so that consumers of the
--                     compacted user-updated topic never let an older state overwrite a newer one
ALTER TABLE users
  ADD COLUMN disabled_at      timestamptz,
  ADD COLUMN token_generation integer NOT NULL DEFAULT 1,
  ADD COLUMN version          integer NOT NULL DEFAULT 1;

-- The admin's user search pages by registration time, newest first.
CREATE INDEX users_by_created ON users (created_at DESC, id DESC);
