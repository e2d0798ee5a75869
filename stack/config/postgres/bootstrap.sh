#!/usr/bin/env bash
# Creates roles, databases and outbox publications. Used by the native stack (postgres_up in
# stack/bin/native) and by compose's postgres-init, both at every start. Connection comes from
# the standard PG* variables (a superuser).
#
# The databases are the service manifest's (services.ts): SERVICE_DATABASES, OUTBOX_DATABASES
# and PLATFORM_DATABASES (space-separated) when set, as compose.yaml does (the postgres image
# has no Node), or else stack/bin/manifest.ts, run with Node 22.18+ from PATH. Every platform
# database (its service produces or consumes events) gets the outbox publication, which its
# platform migrations add tables to; only the outbox databases get a connector reading it.
# Every service database is owned by a login role of the same name whose password is
# <DATABASE>_DB_PASSWORD;
# the registry's database and role (REGISTRY_DB_PASSWORD) and Debezium's replication role
# (cdc, CDC_DB_PASSWORD) are infrastructure. Passwords: stack/config/credentials.env.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

# database_list VARIABLE QUERY: the databases in VARIABLE, or else the manifest's answer to
# QUERY; printed space-separated, each checked to be a plain lower-case name.
database_list() {
  local value="${!1:-}" names=() name
  if [ -z "$value" ]; then
    value="$(node "$here/../../bin/manifest.ts" "$2")" || die "cannot read the service manifest: set $1, or put Node 22.18+ on PATH"
  fi
  read -r -d '' -a names <<<"$value" || true
  [ ${#names[@]} -gt 0 ] || die "no databases in $1"
  for name in "${names[@]}"; do
    [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "not a database name: '$name' (in $1)"
  done
  printf '%s\n' "${names[*]}"
}

service_databases="$(database_list SERVICE_DATABASES databases)"
outbox_databases="$(database_list OUTBOX_DATABASES outbox-databases)"
platform_databases="$(database_list PLATFORM_DATABASES platform-databases)"

# One "<database> <password>" line per service database, for cluster.sql.
service_passwords=""
for db in $service_databases; do
  variable="${db^^}_DB_PASSWORD"
  password="${!variable:-}"
  [ -n "$password" ] || die "$variable is not set"
  [[ "$password" != *$'\n'* ]] || die "$variable holds a line break"
  service_passwords+="$db $password"$'\n'
done
for db in $outbox_databases; do
  [[ " $platform_databases " == *" $db "* ]] || die "outbox database '$db' is not one of the platform databases ($platform_databases)"
done
for db in $platform_databases; do
  [[ " $service_databases " == *" $db "* ]] || die "platform database '$db' is not one of the service databases ($service_databases)"
done

psql_super() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_super -d postgres -f "$here/cluster.sql" \
  -v service_databases="$service_databases" \
  -v outbox_databases="$outbox_databases" \
  -v service_passwords="$service_passwords" \
  -v registry_password="${REGISTRY_DB_PASSWORD:?}" \
  -v cdc_password="${CDC_DB_PASSWORD:?}"

for db in $platform_databases; do
  psql_super -d "$db" -f "$here/service-db.sql" -v owner="$db"
done
