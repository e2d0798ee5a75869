-- What this service knows of each account's standing, from user-updated: a disabled account's
-- tokens are refused, and so is a token of an older generation than the account's (issued
-- before a password change). An account without a row has never changed: nothing is revoked.
-- `version` keeps a late, older event from undoing a newer state.
CREATE TABLE account_states (
  user_id          uuid    PRIMARY KEY,
  disabled         boolean NOT NULL,
  token_generation integer NOT NULL,
  version          integer NOT NULL
);
