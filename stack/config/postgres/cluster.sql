-- Roles and databases of the cluster: every service database (from the service manifest,
-- services.ts) and the registry's, each owned by a login role of the same name; and one
-- replication role for Debezium, cdc, which may connect to the outbox databases only.
-- Idempotent (run at every `make up`, and by compose's init).
-- Variables come from bootstrap.sh:
--   service_databases   the service databases, space-separated
--   outbox_databases    those whose service produces events (outbox, connector), space-separated
--   service_passwords   one line "<database> <password>" per service database
--   registry_password, cdc_password
\set ON_ERROR_STOP on

-- The databases with an owner role of the same name: the services' and the registry's.
CREATE TEMPORARY TABLE owned_database AS
  SELECT name FROM regexp_split_to_table(:'service_databases' || ' registry', '\s+') AS name WHERE name <> '';
CREATE TEMPORARY TABLE outbox_database AS
  SELECT name FROM regexp_split_to_table(:'outbox_databases', '\s+') AS name WHERE name <> '';

SELECT format('CREATE ROLE %I LOGIN', name)
  FROM owned_database
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) \gexec
SELECT 'CREATE ROLE cdc LOGIN REPLICATION'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdc') \gexec

SELECT format('ALTER ROLE %I PASSWORD %L', split_part(line, ' ', 1), substr(line, strpos(line, ' ') + 1))
  FROM regexp_split_to_table(:'service_passwords', '\n') AS line
 WHERE line <> '' \gexec
ALTER ROLE registry PASSWORD :'registry_password';
ALTER ROLE cdc      PASSWORD :'cdc_password';

-- Each database is owned by the role of the same name.
SELECT format('CREATE DATABASE %I OWNER %I', name, name)
  FROM owned_database
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = name) \gexec

-- PUBLIC may connect to any database by default; take that away so that a role reaches
-- only the database it owns (CONNECT stays with the owner).
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', name)
  FROM (SELECT name FROM owned_database UNION ALL SELECT 'postgres') AS d \gexec

-- Debezium streams the outbox of the outbox databases, and nothing else.
SELECT format('GRANT CONNECT ON DATABASE %I TO cdc', name) FROM outbox_database \gexec
SELECT format('REVOKE CONNECT ON DATABASE %I FROM cdc', name)
  FROM owned_database
 WHERE name NOT IN (SELECT name FROM outbox_database) \gexec
