#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster:
#
#   bash scripts/with-postgres.sh .venv/bin/python -m pytest tests/integration -q
#
# Starts a private cluster (initdb on first use; data in $STOREFRONT_PG_DIR, default
# /tmp/storefront-pg) listening on 127.0.0.1 on a free port, creates the database
# (default storefront_test), exports REFLEX_DB_URL, runs the command, then stops the cluster.
# The command's exit code is returned. Re-running reuses the data directory; if the cluster
# is already running (e.g. started by another invocation, or with STOREFRONT_PG_KEEP=1) it is
# reused and left running.
#
# The cluster is scripts/lib/postgres.sh's (installed with apt-get when missing; as root it runs as an
# unprivileged user). Authentication is `trust`, on loopback only: for tests, never for data that matters
# (production mode, scripts/production.sh, uses passwords).
#
# Environment knobs: STOREFRONT_PG_DIR, STOREFRONT_PG_DB, STOREFRONT_PG_PORT (else a free one),
# STOREFRONT_PG_USER (OS user for the server when root), STOREFRONT_PG_KEEP=1 (leave running),
# STOREFRONT_PG_TZ (server TimeZone, default UTC; e.g. Europe/Zurich to shake out naive datetimes).
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

PGDIR="${STOREFRONT_PG_DIR:-/tmp/storefront-pg}"
DB="${STOREFRONT_PG_DB:-storefront_test}"
DBUSER="storefront"
PGTZ_SERVER="${STOREFRONT_PG_TZ:-UTC}"
PG_PORT="${STOREFRONT_PG_PORT:-}"
source "$(dirname "$0")/lib/postgres.sh"

pg_prepare
pg_init trust
# fsync off: throwaway data.
pg_start "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=$PGTZ_SERVER"

stop_cluster() {
    if [ "$PG_STARTED" = 1 ] && [ "${STOREFRONT_PG_KEEP:-0}" != 1 ]; then
        echo "==> [with-postgres] stopping PostgreSQL" >&2
        pg_stop || true
    fi
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_createdb "$DB"

export REFLEX_DB_URL="postgresql+psycopg://$DBUSER@127.0.0.1:$PG_PORT/$DB"
echo "==> [with-postgres] REFLEX_DB_URL=$REFLEX_DB_URL" >&2

set +e
"$@"
status=$?
set -e
exit "$status"
