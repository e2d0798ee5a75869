#!/usr/bin/env bash
# compose.yaml's PostgreSQL init (run once by the image's entrypoint on an empty volume):
# the same settings file and the same bootstrap as the native cluster.
set -euo pipefail
echo "include_if_exists = '/etc/postgresql/stack.conf'" >>"$PGDATA/postgresql.conf"
PGUSER="$POSTGRES_USER" /stack/postgres/bootstrap.sh
