#!/usr/bin/env bash
# compose.yaml's PostgreSQL init (run once by the image's entrypoint on an empty volume): the
# same settings file as the native cluster. Roles and databases are compose's postgres-init,
# at every `up`, as the native stack's bootstrap is.
set -euo pipefail
echo "include_if_exists = '/etc/postgresql/stack.conf'" >>"$PGDATA/postgresql.conf"
