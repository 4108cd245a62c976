#!/usr/bin/env bash
# `make production`: the shop as it runs for real, on this machine, at https://localhost.
#
#   PostgreSQL   a private cluster in $STOREFRONT_PRODUCTION_DIR/postgres, 127.0.0.1 only, password auth
#   Redis        Reflex's state and the abuse-limit counters, 127.0.0.1 only, password, append-only file
#   the shop     $STOREFRONT_WORKERS backend workers (default 2) on 127.0.0.1:$STOREFRONT_APP_PORT, with the
#                payment sandbox and mail capture unless real Stripe keys / an SMTP host are configured
#   Caddy        HTTPS on 443 in front of it (http on 80 redirects), HSTS, secure websocket
#
# Debian's postgresql, redis-server and caddy are installed with apt-get when missing (as root, else
# through sudo). The data stays in $STOREFRONT_PRODUCTION_DIR (default var/production): a second run
# reuses it. Ctrl-C or SIGTERM stops everything this script started. Passwords are made on first use
# and kept there, owner-only; production.env there holds the database and Redis URLs for other commands:
#   (set -a; . var/production/production.env; .venv/bin/python -m storefront staff create ...)
#
# Knobs: STOREFRONT_PRODUCTION_DIR, STOREFRONT_WORKERS, STOREFRONT_APP_PORT (default 3001),
# STOREFRONT_PUBLIC_URL (default https://localhost; another host on port 443 gets a Let's Encrypt
# certificate from Caddy), STOREFRONT_TLS_CERT + STOREFRONT_TLS_KEY (your own certificate; without them
# a self-signed one is made for localhost), STOREFRONT_PG_PORT / STOREFRONT_REDIS_PORT (else free ones).
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$ROOT/scripts/lib/apt.sh"
cd "$ROOT"
umask 077

PROD_DIR="$(mkdir -p "${STOREFRONT_PRODUCTION_DIR:-$ROOT/var/production}" && cd "${STOREFRONT_PRODUCTION_DIR:-$ROOT/var/production}" && pwd)"
WORKERS="${STOREFRONT_WORKERS:-2}"
APP_PORT="${STOREFRONT_APP_PORT:-3001}"
export STOREFRONT_PUBLIC_URL="${STOREFRONT_PUBLIC_URL:-https://localhost}"

log() { echo "==> [production] $*" >&2; }

for port in 80 443 "$APP_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "production: port $port is already in use; stop what listens there first (ports 80 and 443 are" \
             "needed: the shop's pages and its event socket are served on the default HTTPS port)." >&2
        exit 1
    fi
done

apt_install redis-server caddy
if [ "$(id -u)" -ne 0 ] && [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" -gt 80 ] \
        && ! /sbin/getcap "$(command -v caddy)" 2>/dev/null | grep -q cap_net_bind_service; then
    log "allowing caddy to listen on ports 80 and 443 (setcap cap_net_bind_service)"
    apt_install libcap2-bin
    as_root setcap cap_net_bind_service=+ep "$(command -v caddy)"
fi

secret() {  # a password made on first use, kept owner-only
    [ -s "$PROD_DIR/$1" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > "$PROD_DIR/$1"
    cat "$PROD_DIR/$1"
}
PG_PASSWORD="$(secret postgres.password)"
REDIS_PASSWORD="$(secret redis.password)"

SERVE_PID="" CADDY_PID="" REDIS_PID="" PG_STARTED=0
stop_all() {
    trap - INT TERM
    if [ -n "$SERVE_PID" ]; then
        log "stopping the shop"
        kill -TERM -- "-$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 -- "-$SERVE_PID" 2>/dev/null || break; sleep 0.2; done  # its workers, sidecars
        kill -KILL -- "-$SERVE_PID" 2>/dev/null || true
    fi
    if [ -n "$CADDY_PID" ]; then kill -TERM "$CADDY_PID" 2>/dev/null || true; wait "$CADDY_PID" 2>/dev/null || true; fi
    if [ -n "$REDIS_PID" ]; then  # SIGTERM: Redis flushes its append-only file, then exits
        kill -TERM "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true
    fi
    if [ "$PG_STARTED" = 1 ]; then log "stopping PostgreSQL"; pg_stop || true; fi
    log "stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# PostgreSQL: the cluster of scripts/lib/postgres.sh, with passwords (scram-sha-256) and durable writes.
PGDIR="$PROD_DIR/postgres" DBUSER=storefront PG_PORT="${STOREFRONT_PG_PORT:-}"
source "$ROOT/scripts/lib/postgres.sh"
pg_prepare
pg_init scram-sha-256 "$PROD_DIR/postgres.password"
pg_start "-c timezone=UTC"
export PGPASSWORD="$PG_PASSWORD"
pg_createdb storefront
export REFLEX_DB_URL="postgresql+psycopg://storefront:$PG_PASSWORD@127.0.0.1:$PG_PORT/storefront"

# Redis, loopback only, every write appended to its file.
REDIS_DIR="$PROD_DIR/redis"
REDIS_PORT="${STOREFRONT_REDIS_PORT:-$(pg_free_port)}"
mkdir -p "$REDIS_DIR"
cat > "$REDIS_DIR/redis.conf" <<CONF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
requirepass $REDIS_PASSWORD
dir $REDIS_DIR
appendonly yes
daemonize no
logfile $REDIS_DIR/redis.log
CONF
log "starting Redis on 127.0.0.1:$REDIS_PORT"
redis-server "$REDIS_DIR/redis.conf" &
REDIS_PID=$!
export REFLEX_REDIS_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"
until REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
    kill -0 "$REDIS_PID" 2>/dev/null || { tail -5 "$REDIS_DIR/redis.log" >&2; exit 1; }
    sleep 0.2
done

printf 'REFLEX_DB_URL=%s\nREFLEX_REDIS_URL=%s\n' "$REFLEX_DB_URL" "$REFLEX_REDIS_URL" > "$PROD_DIR/production.env"

# The shop's own files next to its data, unless configured elsewhere.
export STOREFRONT_MAIL_DIR="${STOREFRONT_MAIL_DIR:-$PROD_DIR/mail}"
export STOREFRONT_MEDIA_DIR="${STOREFRONT_MEDIA_DIR:-$PROD_DIR/media}"
# Caddy dials the shop from 127.0.0.1 and sets X-Forwarded-For itself: that proxy, and only it, is believed.
export STOREFRONT_TRUSTED_PROXIES=127.0.0.1
export STOREFRONT_WORKERS="$WORKERS"

"$ROOT/scripts/setup.sh"  # Python environment, bun, migrations and seed, into this database

CADDYFILE="$(python -m storefront proxy-config --dir "$PROD_DIR/proxy" --app-port "$APP_PORT")"
log "starting Caddy (HTTPS on 443, http on 80 redirecting); its log: $PROD_DIR/proxy/caddy.log"
# Its autosaved configuration and data stay in our folder too, not in the user's home.
XDG_CONFIG_HOME="$PROD_DIR/proxy" XDG_DATA_HOME="$PROD_DIR/proxy" \
    caddy run --config "$CADDYFILE" --adapter caddyfile >"$PROD_DIR/proxy/caddy.log" 2>&1 &
CADDY_PID=$!

log "starting the shop with $WORKERS workers on 127.0.0.1:$APP_PORT; it will answer at $STOREFRONT_PUBLIC_URL"
setsid python -m storefront serve --port "$APP_PORT" &  # its own process group, stopped as a whole
SERVE_PID=$!
wait -n "$SERVE_PID" "$CADDY_PID" "$REDIS_PID"  # when any of them ends, everything stops
