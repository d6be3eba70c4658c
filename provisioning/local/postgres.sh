#!/usr/bin/env bash
# Run a throw-away PostgreSQL cluster as a plain process for development and tests.
#
# Usage: provisioning/local/postgres.sh start|stop|status|url|destroy
#   start    create the cluster on first use, then start it on 127.0.0.1:<free port>
#   stop     stop it (data is kept; the next start is fast)
#   status   print state; exit 0 when running, 3 when stopped
#   url      print the SQLAlchemy URL of the app database (exit 3 when stopped)
#   destroy  stop and delete the cluster and its generated passwords
#
# State lives in .run/postgres/ of the repository. Passwords are generated when the
# cluster is created and kept there with mode 0600; nothing secret is in this file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${COCOA_PG_RUN_DIR:-$ROOT/.run/postgres}"
DB_NAME=cocoa
DB_USER=cocoa
HOST=127.0.0.1

say() { printf '[postgres] %s\n' "$*" >&2; }
die() { printf '[postgres] error: %s\n' "$*" >&2; exit 1; }

find_bindir() {
  local initdb
  initdb="$(command -v initdb 2>/dev/null || true)"
  # Resolve symlinks: a lone initdb link on PATH says where the full bin dir is.
  if [ -n "$initdb" ] && [ -x "$(dirname "$(readlink -f "$initdb")")/psql" ]; then
    dirname "$(readlink -f "$initdb")"
    return
  fi
  find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1
}

BIN="$(find_bindir)"
if [ ! -x "$BIN/pg_ctl" ] || [ ! -x "$BIN/psql" ]; then
  die "PostgreSQL binaries not found; run scripts/setup.sh"
fi

# PostgreSQL refuses to run as root, so root runs the server as the `postgres` user.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root but no 'postgres' user exists"
  OWNER=postgres
else
  OWNER="$(id -un)"
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u "$OWNER" -- "$@")
  else
    "$@"
  fi
}

# The cluster directory must be reachable by its owner; a repo under /root is not, so
# then the cluster lives in a private temp directory linked from .run/postgres/cluster.
cluster_dir() { readlink -f "$RUN/cluster" 2>/dev/null || echo "$RUN/cluster"; }

make_cluster_dir() {
  mkdir -p "$RUN"
  chmod 700 "$RUN"
  if [ "$OWNER" != "$(id -un)" ] && ! runuser -u "$OWNER" -- test -x "$(dirname "$RUN")"; then
    local tmp
    tmp="$(mktemp -d /tmp/cocoa-pg.XXXXXX)"
    chown "$OWNER" "$tmp"
    chmod 700 "$tmp"
    ln -sfn "$tmp" "$RUN/cluster"
  else
    mkdir -p "$RUN/cluster"
    # The repo's .run/postgres stays private to the invoking user; only the cluster
    # directory below it is opened to the server's owner.
    chmod 711 "$RUN"
    chown "$OWNER" "$RUN/cluster"
    chmod 700 "$RUN/cluster"
  fi
}

new_secret() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

is_running() {
  [ -d "$(cluster_dir)/data" ] && as_owner "$BIN/pg_ctl" status -D "$(cluster_dir)/data" >/dev/null 2>&1
}

init_cluster() {
  local dir
  make_cluster_dir
  dir="$(cluster_dir)"
  new_secret > "$RUN/superuser-password"
  new_secret > "$RUN/password"
  chmod 600 "$RUN/superuser-password" "$RUN/password"
  # initdb reads the superuser password from a file its owner can read; remove it after.
  install -m 600 -o "$OWNER" "$RUN/superuser-password" "$dir/pwfile"
  as_owner "$BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth-host=scram-sha-256 --auth-local=reject -E UTF8 --locale=C.UTF-8 \
    >"$RUN/initdb.log" 2>&1 || { tail -n 20 "$RUN/initdb.log" >&2; die "initdb failed"; }
  rm -f "$dir/pwfile"
  # A throw-away test cluster trades durability for speed; never copy these settings.
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '$HOST'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
  touch "$RUN/needs-bootstrap"
}

psql_super() {
  PGPASSWORD="$(cat "$RUN/superuser-password")" "$BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$HOST" -p "$(cat "$RUN/port")" -U postgres -d postgres "$@"
}

bootstrap() {
  # CREATEDB lets the test fixtures give each test its own fresh database.
  psql_super -c "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$(cat "$RUN/password")'" \
    -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null
  rm -f "$RUN/needs-bootstrap"
}

cmd_start() {
  if is_running; then
    say "already running on $HOST:$(cat "$RUN/port")"
    return
  fi

  [ -d "$(cluster_dir)/data" ] || init_cluster
  local dir port started=$SECONDS
  dir="$(cluster_dir)"
  port="$(free_port)"
  echo "$port" > "$RUN/port"
  as_owner "$BIN/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/postgres.log" \
    -o "-p $port" >/dev/null 2>&1 || {
    tail -n 20 "$dir/postgres.log" >&2 || true
    die "server did not start (log: $dir/postgres.log)"
  }
  [ ! -e "$RUN/needs-bootstrap" ] || bootstrap
  say "running on $HOST:$port (started in $((SECONDS - started))s, log: $dir/postgres.log)"
}

cmd_stop() {
  if ! is_running; then
    say "not running"
    return
  fi

  as_owner "$BIN/pg_ctl" stop -w -m fast -D "$(cluster_dir)/data" >/dev/null
  say "stopped"
}

cmd_status() {
  if is_running; then
    echo "running on $HOST:$(cat "$RUN/port") (data: $(cluster_dir)/data)"
    return 0
  fi

  echo "stopped"
  return 3
}

cmd_url() {
  is_running || { say "not running; start it first"; return 3; }
  echo "postgresql+psycopg2://$DB_USER:$(cat "$RUN/password")@$HOST:$(cat "$RUN/port")/$DB_NAME"
}

cmd_destroy() {
  cmd_stop
  local dir
  dir="$(cluster_dir)"
  rm -rf "$dir"
  rm -rf "$RUN"
  say "destroyed"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) cmd_url ;;
  destroy) cmd_destroy ;;
  *) echo "usage: $0 start|stop|status|url|destroy" >&2; exit 2 ;;
esac
