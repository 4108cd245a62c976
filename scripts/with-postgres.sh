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
# As root the server runs as the `postgres` system user (or `pgtest`, created if needed),
# since PostgreSQL refuses to run as root; the PostgreSQL server is installed with apt-get
# when no binaries are found. Authentication is `trust`, on loopback only: for tests, never
# for data that matters.
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
PGDATA="$PGDIR/data"
DB="${STOREFRONT_PG_DB:-storefront_test}"
DBUSER="storefront"
PGTZ_SERVER="${STOREFRONT_PG_TZ:-UTC}"

log() { echo "==> [with-postgres] $*" >&2; }

find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    return 1
}

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL server binaries not found; install them (apt-get install postgresql) or run as root." >&2
        exit 1
    fi
    log "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's package would create and start a default cluster; we use our own, so skip that.
    mkdir -p /etc/postgresql-common
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    fi
    apt-get install -y -qq postgresql >/dev/null
    BINDIR="$(find_bindir)"
fi

# The server must not run as root: pick (or create) an unprivileged OS user.
if [ "$(id -u)" -eq 0 ]; then
    RUN_AS="${STOREFRONT_PG_USER:-}"
    if [ -z "$RUN_AS" ]; then
        if id postgres >/dev/null 2>&1; then RUN_AS=postgres; else RUN_AS=pgtest; fi
    fi
    if ! id "$RUN_AS" >/dev/null 2>&1; then
        log "creating system user $RUN_AS"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS"
    fi
    as_pg() { (cd / && runuser -u "$RUN_AS" -- "$@"); }
    mkdir -p "$PGDIR"
    chown "$RUN_AS" "$PGDIR"
    chmod 700 "$PGDIR"
else
    as_pg() { "$@"; }
    mkdir -p "$PGDIR"
    chmod 700 "$PGDIR"
fi

pg() { as_pg "$BINDIR/$1" "${@:2}"; }

free_port() {
    local p
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    for p in $(seq 54329 54429); do  # nothing answering on the port: take it
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    echo "no free port found" >&2
    return 1
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    log "initdb in $PGDATA"
    rm -rf "$PGDATA"
    pg initdb -D "$PGDATA" -U "$DBUSER" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
        || pg initdb -D "$PGDATA" -U "$DBUSER" --auth=trust --encoding=UTF8 --locale=C >/dev/null
fi

STARTED=0
if pg pg_ctl -D "$PGDATA" status >/dev/null 2>&1; then
    PORT="$(sed -n 4p "$PGDATA/postmaster.pid")"  # line 4 of postmaster.pid is the port
    log "reusing the running cluster on 127.0.0.1:$PORT"
else
    PORT="${STOREFRONT_PG_PORT:-$(free_port)}"
    log "starting PostgreSQL ($BINDIR) on 127.0.0.1:$PORT"
    # Sockets go in the data dir (no /var/run/postgresql needed); fsync off: throwaway data.
    pg pg_ctl -D "$PGDATA" -l "$PGDIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories='$PGDATA' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=$PGTZ_SERVER" \
        start >/dev/null || { cat "$PGDIR/server.log" >&2; exit 1; }
    STARTED=1
fi

stop_cluster() {
    if [ "$STARTED" = 1 ] && [ "${STOREFRONT_PG_KEEP:-0}" != 1 ]; then
        log "stopping PostgreSQL"
        pg pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null || true
    fi
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(pg psql -h 127.0.0.1 -p "$PORT" -U "$DBUSER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    log "creating database $DB"
    pg createdb -h 127.0.0.1 -p "$PORT" -U "$DBUSER" "$DB"
fi

export REFLEX_DB_URL="postgresql+psycopg://$DBUSER@127.0.0.1:$PORT/$DB"
log "REFLEX_DB_URL=$REFLEX_DB_URL"

set +e
"$@"
status=$?
set -e
exit "$status"
