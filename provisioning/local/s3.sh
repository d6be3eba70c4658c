#!/usr/bin/env bash
# Run a local S3-compatible server as a separate process on 127.0.0.1.
#
# Usage: provisioning/local/s3.sh build|start|stop|status|env
#   build   build the server binary once and cache it (nothing to build for moto)
#   start   start the server on a free port with fresh credentials
#   stop    stop it (the objects it held are discarded on the next start)
#   status  print state; exit 0 when running, 3 when stopped
#   env     print AWS_* variables for clients (and COCOA_S3_BACKEND), one NAME=value
#           per line: `export $(provisioning/local/s3.sh env)`
#
# COCOA_S3_BACKEND picks the server: `seaweedfs` (default; a real object store built
# from source with Go, which checks request signatures) or `moto` (moto_server from
# the repo venv; in-memory and it does not check credentials).
# State lives in .run/s3/ of the repository; builds are cached in
# ${COCOA_CACHE_DIR:-~/.cache/cocoa-trace} so fresh clones reuse them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${COCOA_S3_RUN_DIR:-$ROOT/.run/s3}"
CACHE="${COCOA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cocoa-trace}"
BACKEND="${COCOA_S3_BACKEND:-seaweedfs}"
HOST=127.0.0.1
REGION=us-east-1
# SeaweedFS tags releases without a `v`, so the Go proxy knows commits only by
# pseudo-version; this pins a commit that reports itself as 4.53. Bump deliberately.
WEED_MODULE=github.com/seaweedfs/seaweedfs
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
WEED_BIN="$CACHE/bin/weed-$WEED_VERSION"
START_TIMEOUT_S=60

say() { printf '[s3] %s\n' "$*" >&2; }
die() { printf '[s3] error: %s\n' "$*" >&2; exit 1; }

python() { if [ -x "$ROOT/.venv/bin/python" ]; then "$ROOT/.venv/bin/python" "$@"; else python3 "$@"; fi; }
new_secret() { python -c "import secrets, sys; print(secrets.token_hex(int(sys.argv[1])))" "$1"; }
free_port() {
  python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

build_weed() {
  [ -x "$WEED_BIN" ] && return
  command -v go >/dev/null || die "Go is needed to build SeaweedFS; install Go or set COCOA_S3_BACKEND=moto"
  say "building SeaweedFS $WEED_VERSION (first time only; several minutes on 2 cores)"
  local started=$SECONDS src tmp
  src="$(go mod download -json "$WEED_MODULE@$WEED_VERSION" \
    | python -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')" \
    || die "could not download $WEED_MODULE@$WEED_VERSION"
  mkdir -p "$CACHE/bin"
  tmp="$WEED_BIN.tmp.$$"
  # `go install pkg@version` refuses modules with replace directives, which this one
  # has, so build inside the downloaded module instead.
  (cd "$src" && go build -trimpath -ldflags '-s -w' -o "$tmp" ./weed) \
    || { rm -f "$tmp"; die "go build of SeaweedFS failed"; }
  mv "$tmp" "$WEED_BIN"
  say "built SeaweedFS in $((SECONDS - started))s: $WEED_BIN"
}

cmd_build() {
  case "$BACKEND" in
    seaweedfs) build_weed && say "seaweedfs: $WEED_BIN" ;;
    moto) say "moto: $(moto_bin)" ;;
    *) die "unknown COCOA_S3_BACKEND=$BACKEND (seaweedfs or moto)" ;;
  esac
}

moto_bin() {
  local bin="$ROOT/.venv/bin/moto_server"
  [ -x "$bin" ] || die "moto_server not in .venv; run scripts/setup.sh"
  echo "$bin"
}

pid_alive() { [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; }

answers() {
  python -c '
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass
except OSError:
    sys.exit(1)
' "http://$HOST:$(cat "$RUN/port")/"
}

is_running() { pid_alive && answers; }

write_weed_config() {
  cat >"$RUN/s3-config.json" <<JSON
{"identities": [{"name": "cocoa-test",
  "credentials": [{"accessKey": "$(cat "$RUN/access-key")",
                   "secretKey": "$(cat "$RUN/secret-key")"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
JSON
  chmod 600 "$RUN/s3-config.json"
}

weed_argv() {
  # Every port is chosen here because the defaults (9333, 8333, 12535…) may be taken by
  # another checkout's server; the extras (WebDAV, admin UI, Iceberg, Lance) are off,
  # and so is telemetry, which would call out of an offline machine.
  echo "$WEED_BIN" mini -dir="$RUN/data" -ip="$HOST" -ip.bind="$HOST" \
    -s3.port="$(cat "$RUN/port")" -s3.port.grpc="$(free_port)" \
    -s3.config="$RUN/s3-config.json" \
    -master.port="$(free_port)" -master.port.grpc="$(free_port)" \
    -volume.port="$(free_port)" -volume.port.grpc="$(free_port)" \
    -filer.port="$(free_port)" -filer.port.grpc="$(free_port)" \
    -master.volumeSizeLimitMB=64 -master.telemetry=false \
    -admin.port="$(free_port)" -admin.port.grpc="$(free_port)" -admin.port.legacy=0 \
    -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0
}

launch() {
  local argv
  case "$BACKEND" in
    seaweedfs)
      build_weed
      write_weed_config
      rm -rf "$RUN/data"
      mkdir -p "$RUN/data"
      argv="$(weed_argv)"
      ;;
    moto) argv="$(moto_bin) -H $HOST -p $(cat "$RUN/port")" ;;
    *) die "unknown COCOA_S3_BACKEND=$BACKEND (seaweedfs or moto)" ;;
  esac
  # setsid detaches the server from this shell so it outlives `start`.
  # shellcheck disable=SC2086  # argv holds no spaces: paths come from this script.
  setsid $argv </dev/null >"$RUN/server.log" 2>&1 &
  echo $! > "$RUN/pid"
}

cmd_start() {
  if is_running; then
    say "already running on $HOST:$(cat "$RUN/port") ($(cat "$RUN/backend"))"
    return
  fi

  [ -z "$(ls -A "$RUN" 2>/dev/null)" ] || cmd_stop >/dev/null 2>&1 || true
  mkdir -p "$RUN"
  chmod 700 "$RUN"
  new_secret 10 | tr a-f A-F > "$RUN/access-key"
  new_secret 20 > "$RUN/secret-key"
  chmod 600 "$RUN/access-key" "$RUN/secret-key"
  free_port > "$RUN/port"
  echo "$BACKEND" > "$RUN/backend"
  local started=$SECONDS
  launch
  until answers; do
    pid_alive || { tail -n 20 "$RUN/server.log" >&2; die "$BACKEND exited (log: $RUN/server.log)"; }
    [ $((SECONDS - started)) -lt "$START_TIMEOUT_S" ] \
      || { tail -n 20 "$RUN/server.log" >&2; cmd_stop; die "$BACKEND not ready in ${START_TIMEOUT_S}s"; }
    sleep 0.2
  done
  say "$BACKEND running on $HOST:$(cat "$RUN/port") (started in $((SECONDS - started))s, log: $RUN/server.log)"
}

cmd_stop() {
  if ! pid_alive; then
    say "not running"
    return
  fi

  local pid _
  pid="$(cat "$RUN/pid")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$RUN/pid"
  say "stopped"
}

cmd_status() {
  if is_running; then
    echo "running on $HOST:$(cat "$RUN/port") ($(cat "$RUN/backend"), pid $(cat "$RUN/pid"))"
    return 0
  fi

  echo "stopped"
  return 3
}

cmd_env() {
  is_running || { say "not running; start it first"; return 3; }
  echo "AWS_ENDPOINT_URL=http://$HOST:$(cat "$RUN/port")"
  echo "AWS_ACCESS_KEY_ID=$(cat "$RUN/access-key")"
  echo "AWS_SECRET_ACCESS_KEY=$(cat "$RUN/secret-key")"
  echo "AWS_DEFAULT_REGION=$REGION"
  echo "COCOA_S3_BACKEND=$(cat "$RUN/backend")"
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 build|start|stop|status|env" >&2; exit 2 ;;
esac
