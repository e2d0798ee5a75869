#!/usr/bin/env bash
# Sets one PostgreSQL setting on the running native cluster (ALTER SYSTEM, then a reload), for
# a `make bench-ab` variant; DEFAULT drops the override, which leaves stack.conf's value.
# Settings read only at start need a restart (stack/bin/native stop postgres; make up).
#   tests/bench/pg-setting.sh commit_delay 500
#   tests/bench/pg-setting.sh commit_delay DEFAULT
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <setting> <value|DEFAULT>" >&2; exit 2; }
name="$1" value="$2"
[[ "$name" =~ ^[a-z_.]+$ ]] || { echo "not a setting name: $name" >&2; exit 2; }
psql_superuser() {
  PGPASSWORD="$POSTGRES_PASSWORD" psql -qAtX -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$POSTGRES_USER" -d postgres "$@"
}
if [ "$value" = DEFAULT ]; then
  psql_superuser -c "alter system reset $name"
else
  psql_superuser -v value="$value" <<<"alter system set $name = :'value';"
fi
psql_superuser -c 'select pg_reload_conf()' >/dev/null
# The reload is a signal to the postmaster; new sessions see it once it has been handled.
sleep 0.5
read -r shown restart < <(psql_superuser -F ' ' -c "select setting, pending_restart from pg_settings where name = '$name'")
[ -n "${shown:-}" ] || { echo "no such setting: $name" >&2; exit 1; }
[ "$restart" = f ] || { echo "$name = $shown until a restart (stack/bin/native stop postgres; make up)" >&2; exit 1; }
echo "$name = $shown"
