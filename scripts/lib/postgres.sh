# Sourced: a private PostgreSQL cluster in a folder of its own, listening on 127.0.0.1 only
# (scripts/with-postgres.sh for tests, scripts/production.sh for production mode).
#
# Set PGDIR (the cluster's folder: data/ and server.log) and DBUSER (its superuser) first, then:
#   pg_prepare             find the server (apt-get install postgresql when missing) and the OS user to run it
#   pg_init AUTH [PWFILE]  initdb on first use (AUTH: trust or scram-sha-256; PWFILE: the superuser's password)
#   pg_start OPTIONS       start on 127.0.0.1:$PG_PORT (a free port unless set) unless already running;
#                          sets PG_PORT and PG_STARTED (1 when this call started it)
#   pg_stop                stop it (fast shutdown: open transactions are rolled back, nothing committed is lost)
#   pg_createdb DB         create a database unless present
# As root the server runs as the `postgres` system user (or `pgtest`, created if needed, or
# $STOREFRONT_PG_USER), since PostgreSQL refuses to run as root.

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

PGDATA="$PGDIR/data"

pg_find_bindir() {
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

pg_prepare() {
    PG_BINDIR="$(pg_find_bindir || true)"
    if [ -z "$PG_BINDIR" ]; then
        apt_install postgresql
        PG_BINDIR="$(pg_find_bindir)"
    fi
    mkdir -p "$PGDIR"
    chmod 700 "$PGDIR"
    if [ "$(id -u)" -eq 0 ]; then
        PG_RUN_AS="${STOREFRONT_PG_USER:-}"
        if [ -z "$PG_RUN_AS" ]; then
            if id postgres >/dev/null 2>&1; then PG_RUN_AS=postgres; else PG_RUN_AS=pgtest; fi
        fi
        if ! id "$PG_RUN_AS" >/dev/null 2>&1; then
            echo "==> creating system user $PG_RUN_AS" >&2
            useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_RUN_AS"
        fi
        chown "$PG_RUN_AS" "$PGDIR"
        pg_reach
    fi
}

# As root: the server's user must be able to walk down to its folder. Folders above it that deny that (such as
# var/, owner-only) get search permission for others: x without r, so nothing in them can be listed.
pg_reach() {
    [ "$(id -u)" -eq 0 ] || return 0
    local d
    d="$(cd "$PGDIR/.." && pwd)"
    while [ "$d" != / ]; do
        runuser -u "$PG_RUN_AS" -- test -x "$d" || chmod o+x "$d"
        d="$(dirname "$d")"
    done
}

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u "$PG_RUN_AS" -- "$@"); else "$@"; fi
}

pg() { as_pg "$PG_BINDIR/$1" "${@:2}"; }

pg_init() {
    local auth="$1" pwfile="${2:-}"
    [ -s "$PGDATA/PG_VERSION" ] && return 0
    echo "==> initdb in $PGDATA" >&2
    rm -rf "$PGDATA"
    local args=(-D "$PGDATA" -U "$DBUSER" --auth="$auth" --encoding=UTF8)
    local own_pwfile=""
    if [ -n "$pwfile" ]; then  # a copy the server's user can read, removed straight after
        own_pwfile="$PGDIR/.initdb-password"
        install -m 600 "$pwfile" "$own_pwfile"
        [ "$(id -u)" -eq 0 ] && chown "$PG_RUN_AS" "$own_pwfile"
        args+=(--pwfile="$own_pwfile")
    fi
    pg initdb "${args[@]}" --locale=C.UTF-8 >/dev/null 2>&1 || pg initdb "${args[@]}" --locale=C >/dev/null
    [ -z "$own_pwfile" ] || rm -f "$own_pwfile"
}

pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
    local options="$1"
    PG_STARTED=0
    if pg pg_ctl -D "$PGDATA" status >/dev/null 2>&1; then
        PG_PORT="$(sed -n 4p "$PGDATA/postmaster.pid")"  # line 4 of postmaster.pid is the port
        echo "==> reusing the running PostgreSQL cluster on 127.0.0.1:$PG_PORT" >&2
        return 0
    fi
    PG_PORT="${PG_PORT:-$(pg_free_port)}"
    echo "==> starting PostgreSQL ($PG_BINDIR) on 127.0.0.1:$PG_PORT" >&2
    # Sockets go in the data dir (no /var/run/postgresql needed).
    pg pg_ctl -D "$PGDATA" -l "$PGDIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='$PGDATA' $options" \
        start >/dev/null || { cat "$PGDIR/server.log" >&2; return 1; }
    PG_STARTED=1
}

pg_stop() {
    pg_reach
    pg pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
}

pg_createdb() {
    local db="$1"
    if [ "$(pg psql -h 127.0.0.1 -p "$PG_PORT" -U "$DBUSER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
        echo "==> creating database $db" >&2
        pg createdb -h 127.0.0.1 -p "$PG_PORT" -U "$DBUSER" "$db"
    fi
}
