#!/usr/bin/env bash
# Prepare this machine for development and tests: system packages and the repo venv.
#
# Idempotent: a second run checks what is there, installs nothing, and needs no network.
# Usage: scripts/setup.sh            (as root, or with sudo available for apt-get)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.cocoa-setup-hash"
APT_UPDATED=0

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

apt_install() {
  local log
  log="$(mktemp /tmp/cocoa-setup-apt.XXXXXX)"
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 \
      || { tail -n 20 "$log" >&2; die "apt-get update failed (log: $log)"; }
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; die "apt-get install $* failed (log: $log)"; }
  rm -f "$log"
}

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }

pg_bindir() {
  # Debian installs each major version under its own directory; take the newest.
  find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1
}

ensure_postgres() {
  if [ -n "$(pg_bindir)" ] && [ -x "$(pg_bindir)/initdb" ]; then
    say "postgresql: present $("$(pg_bindir)/postgres" --version | awk '{print $3}')"
    return
  fi
  apt_install postgresql
  [ -x "$(pg_bindir)/initdb" ] || die "postgresql installed but initdb not found"
  say "postgresql: installed $("$(pg_bindir)/postgres" --version | awk '{print $3}')"
}

ensure_chromium() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  if [ "${#missing[@]}" -eq 0 ]; then
    say "chromium: present $(pkg_version chromium)"
    return
  fi
  # fonts-liberation gives pages a real font so text rendering and layout are stable.
  apt_install "${missing[@]}" fonts-liberation
  command -v chromium >/dev/null || die "chromium installed but not on PATH"
  command -v chromedriver >/dev/null || die "chromedriver installed but not on PATH"
  say "chromium: installed $(pkg_version chromium)"
}

pick_python() {
  local py
  for py in python3.11 python3; do
    if command -v "$py" >/dev/null \
      && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$py"
      return
    fi
  done
  die "need Python >= 3.11 on PATH"
}

ensure_venv() {
  local py hash
  py="$(pick_python)"
  # Debian splits ensurepip into python3-venv; without it `python -m venv` fails.
  if ! "$py" -c 'import ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi

  hash="$(sha256sum <"$ROOT/pyproject.toml" | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$hash" ]; then
    say "venv: up to date ($VENV)"
    return
  fi

  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV" || die "could not create $VENV"
  local log="$VENV/setup-pip.log"
  # Build-backend warnings are noise here; keep them in a log shown only on failure.
  if ! { "$VENV/bin/python" -m pip install -q --upgrade pip \
      && "$VENV/bin/python" -m pip install -q -e "${ROOT}[test]"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "pip install -e .[test] failed (is PyPI reachable? full log: $log)"
  fi
  echo "$hash" > "$STAMP"
  say "venv: installed $("$VENV/bin/python" --version) with .[test]"
}

ensure_s3_server() {
  # Builds (once, then cached) the S3 server binary when the backend needs one.
  local out
  out="$(bash "$ROOT/provisioning/local/s3.sh" build 2>&1)" \
    || { echo "$out" >&2; die "S3 server build failed"; }
  say "s3 server: ${out##*\] }"
}

main() {
  local start=$SECONDS
  # The demo runs on the embedded defaults (SQLite, local files, embedded ledger)
  # and needs only the venv; the tests need the servers too.
  if [ "${COCOA_SETUP_PROFILE:-test}" = demo ]; then
    ensure_venv
    say "done in $((SECONDS - start))s"
    return
  fi
  ensure_postgres
  ensure_chromium
  ensure_venv
  ensure_s3_server
  say "done in $((SECONDS - start))s"
}

main "$@"
