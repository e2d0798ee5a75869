#!/usr/bin/env bash
# Creates roles, databases and outbox publications. Used by the native stack (stack/bin/up)
# and by compose's PostgreSQL init. Connection comes from the standard PG* variables
# (a superuser); passwords from the *_DB_PASSWORD variables (stack/config/credentials.env).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

psql_super() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_super -d postgres -f "$here/cluster.sql" \
  -v users_password="$USERS_DB_PASSWORD" \
  -v products_password="$PRODUCTS_DB_PASSWORD" \
  -v orders_password="$ORDERS_DB_PASSWORD" \
  -v payments_password="$PAYMENTS_DB_PASSWORD" \
  -v gateway_password="$GATEWAY_DB_PASSWORD" \
  -v registry_password="$REGISTRY_DB_PASSWORD" \
  -v cdc_password="$CDC_DB_PASSWORD"

for db in users products orders payments; do
  psql_super -d "$db" -f "$here/service-db.sql" -v owner="$db"
done
