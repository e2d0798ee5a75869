-- Roles and databases of the cluster: one database and one login role per owner, and one
-- replication role for Debezium. Idempotent (run at every `make up`, and by compose's init).
-- Variables come from bootstrap.sh: users_password, products_password, ..., cdc_password.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['users', 'products', 'orders', 'payments', 'gateway', 'registry']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
SELECT 'CREATE ROLE cdc LOGIN REPLICATION'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdc') \gexec

ALTER ROLE users    PASSWORD :'users_password';
ALTER ROLE products PASSWORD :'products_password';
ALTER ROLE orders   PASSWORD :'orders_password';
ALTER ROLE payments PASSWORD :'payments_password';
ALTER ROLE gateway  PASSWORD :'gateway_password';
ALTER ROLE registry PASSWORD :'registry_password';
ALTER ROLE cdc      PASSWORD :'cdc_password';

-- Each database is owned by the role of the same name.
SELECT format('CREATE DATABASE %I OWNER %I', d, d)
  FROM unnest(ARRAY['users', 'products', 'orders', 'payments', 'gateway', 'registry']) AS d
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d) \gexec

-- PUBLIC may connect to any database by default; take that away so that a role reaches
-- only the database it owns (CONNECT stays with the owner).
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', d)
  FROM unnest(ARRAY['users', 'products', 'orders', 'payments', 'gateway', 'registry', 'postgres']) AS d \gexec

-- Debezium streams the outbox of the four service databases, and nothing else.
GRANT CONNECT ON DATABASE users, products, orders, payments TO cdc;
