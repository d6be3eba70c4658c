#!/usr/bin/env bash
# Set up the Python environment and run the main job end to end (see scripts/demo.py).
# `scripts/demo.sh stop` stops the hub the demo leaves running.
set -euo pipefail
cd "$(dirname "$0")/.."
COCOA_SETUP_PROFILE=demo scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
