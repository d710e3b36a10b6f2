#!/usr/bin/env bash
# Start/stop the private PostgreSQL (PostGIS) cluster and Redis server of this checkout.
# Usage: scripts/services.sh start|stop|status
# Ports: TMCS_PG_PORT (54329), TMCS_REDIS_PORT (63799). Data lives under .local/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PG_BIN="${TMCS_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${TMCS_PG_PORT:-54329}"
REDIS_PORT="${TMCS_REDIS_PORT:-63799}"
DB_NAME="${TMCS_DB_NAME:-tmcs}"
DB_USER="${TMCS_DB_USER:-tmcs}"
DB_PASSWORD="${TMCS_DB_PASSWORD:-tmcs}"
REDIS_DIR="$LOCAL/redis"
SOCKET_DIR="/tmp"

mkdir -p "$LOCAL" "$REDIS_DIR"

# initdb and postgres refuse to run as root: as root, run them as the postgres system user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The postgres user must be able to reach its data directory. A checkout under a private home
# directory is not reachable, so the cluster then lives in /var/tmp, linked from .local/pgdata.
pg_data_dir() {
  local wanted="$LOCAL/pgdata"
  if [ -L "$wanted" ]; then readlink -f "$wanted"; return; fi
  if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$LOCAL"; then
    echo "$wanted"; return
  fi
  local alt="/var/tmp/tmcs-pgdata-$(echo -n "$ROOT" | sha1sum | cut -c1-12)"
  mkdir -p "$alt"
  ln -sfn "$alt" "$wanted"
  echo "$alt"
}

psql_admin() {
  as_pg "$PG_BIN/psql" -h "$SOCKET_DIR" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

start_pg() {
  local data; data="$(pg_data_dir)"
  if [ ! -s "$data/PG_VERSION" ]; then
    echo "==> initialising PostgreSQL cluster in $data"
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
    chmod 700 "$data"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "==> PostgreSQL already running on port $PG_PORT"
  else
    echo "==> starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
      -o "-p $PG_PORT -k $SOCKET_DIR -c listen_addresses=127.0.0.1 -c fsync=${TMCS_PG_FSYNC:-on}" >/dev/null
  fi
  # Role, database and PostGIS (idempotent). The role is a superuser of this private cluster
  # so that the test runner can create its database with the PostGIS extension.
  psql_admin -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE "$DB_USER" LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
SQL
  if [ -z "$(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
    psql_admin -d postgres -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\""
  fi
  psql_admin -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
  psql_admin -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS postgis"
}

stop_pg() {
  local data="$LOCAL/pgdata"
  [ -e "$data" ] || return 0
  data="$(readlink -f "$data")"
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "==> stopping PostgreSQL"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

redis_running() {
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

start_redis() {
  if redis_running; then
    echo "==> Redis already running on port $REDIS_PORT"
    return
  fi
  echo "==> starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$REDIS_DIR" \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no
  for _ in $(seq 50); do redis_running && return; sleep 0.1; done
  echo "Redis did not start; see $REDIS_DIR/redis.log" >&2
  exit 1
}

stop_redis() {
  if redis_running; then
    echo "==> stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start_pg; start_redis ;;
  stop) stop_redis; stop_pg ;;
  status)
    as_pg "$PG_BIN/pg_ctl" -D "$(readlink -f "$LOCAL/pgdata")" status || true
    redis_running && echo "Redis: running on $REDIS_PORT" || echo "Redis: stopped"
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
