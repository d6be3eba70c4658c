#!/usr/bin/env bash
# Set up a cooperative gateway box (Debian/Raspberry Pi OS) or a Linux tablet:
# a system user, the app in its own venv, the device key, enrollment with the hub,
# and a systemd service. Run as root from a checkout of the repository:
#
#   sudo provisioning/device/setup-gateway.sh --hub https://hub.example.org \
#        --token <one-time token from the hub console> --kind gateway --listen 0.0.0.0:8080
#
# The enrollment token is read once and never written to disk.
set -euo pipefail

HUB="" TOKEN="" KIND="gateway" LISTEN="127.0.0.1:8080" LABEL="$(hostname)"
PREFIX=/opt/cocoa-trace HOME_DIR=/var/lib/cocoa-edge

while [ $# -gt 0 ]; do
  case "$1" in
    --hub) HUB="$2"; shift 2 ;;
    --token) TOKEN="$2"; shift 2 ;;
    --kind) KIND="$2"; shift 2 ;;
    --listen) LISTEN="$2"; shift 2 ;;
    --label) LABEL="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$HUB" ] && [ -n "$TOKEN" ] || { echo "usage: $0 --hub URL --token T [--kind tablet|gateway] [--listen HOST:PORT]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

src="$(cd "$(dirname "$0")/../.." && pwd)"
step() { printf '[device] %s\n' "$*"; }

step "system user cocoa-edge"
id cocoa-edge >/dev/null 2>&1 || useradd --system --home "$HOME_DIR" --shell /usr/sbin/nologin cocoa-edge
install -d -o cocoa-edge -g cocoa-edge -m 0700 "$HOME_DIR"

step "application in $PREFIX"
python3 -m venv "$PREFIX"
"$PREFIX/bin/pip" install --quiet "$src"

as_edge() { runuser -u cocoa-edge -- env COCOA_EDGE_HOME="$HOME_DIR" "$PREFIX/bin/cocoa-edge" "$@"; }

if [ ! -f "$HOME_DIR/device.key" ]; then
  step "device key"
  as_edge init --label "$LABEL"
fi

step "enroll with $HUB as a $KIND"
as_edge enroll --hub "$HUB" --token "$TOKEN" --kind "$KIND"

step "systemd service cocoa-edge"
cat >/etc/systemd/system/cocoa-edge.service <<UNIT
[Unit]
Description=Cocoa Trace edge ($KIND)
After=network.target

[Service]
User=cocoa-edge
Environment=COCOA_EDGE_HOME=$HOME_DIR
ExecStart=$PREFIX/bin/cocoa-edge serve --host ${LISTEN%:*} --port ${LISTEN##*:}
Restart=always
RestartSec=5
# The journal must survive power cuts: SQLite commits with fsync, so no write cache tricks here.
NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths=$HOME_DIR
PrivateTmp=true

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now cocoa-edge.service
step "done: open http://$LISTEN/ ; the nightly sync runs inside the service"
