#!/usr/bin/env bash
# Set up what the tests need on a fresh machine (packages, venv, servers are started
# by the test fixtures themselves) and run every test: Go chaincode, then Python.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "[test] go test ./... in chaincode/"
(cd chaincode && go test -count=1 ./...)

echo "[test] pytest"
exec .venv/bin/python -m pytest "$@"
