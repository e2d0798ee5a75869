-- Accounts. Usernames and emails are unique without regard to case: "Alice" and "alice"
-- are the same person, and so are two spellings of one mailbox.
CREATE TABLE users (
  id            uuid        PRIMARY KEY,
  username      text        NOT NULL,
  email         text        NOT NULL,
  full_name     text,
  role          text        NOT NULL CHECK (role IN ('customer', 'admin')),
  -- scrypt, in the self-describing form of domain/passwords.ts; never leaves this database.
  password_hash text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- The ES256 keys access tokens are signed with. Kept here so tokens stay valid across
-- restarts and every instance signs with the same key; the JWKS endpoint publishes all of
-- them, so a token signed before a rotation still verifies.
CREATE TABLE signing_keys (
  kid         text        PRIMARY KEY,
  private_key text        NOT NULL,
  public_jwk  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
