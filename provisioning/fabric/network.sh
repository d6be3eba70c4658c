#!/usr/bin/env bash
# Local Hyperledger Fabric network for Cocoa Trace.
#
#   network.sh build    build the pinned Fabric binaries into the cache
#   network.sh up       start orderer, two peers, channel and chaincode
#   network.sh down     stop every process and remove all network state
#   network.sh status   show what runs
#   network.sh define NAME...
#                       commit more definitions of the installed chaincode,
#                       each with a ledger namespace of its own
#
# Every setting is an environment variable; see README.md beside this file.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=lib/common.sh
source "$HERE/lib/common.sh"
# shellcheck source=lib/build.sh
source "$HERE/lib/build.sh"
# shellcheck source=lib/nodes.sh
source "$HERE/lib/nodes.sh"
# shellcheck source=lib/channel.sh
source "$HERE/lib/channel.sh"
# shellcheck source=lib/chaincode.sh
source "$HERE/lib/chaincode.sh"
# shellcheck source=lib/status.sh
source "$HERE/lib/status.sh"

require_tools() {
  local tool
  for tool in go curl tar setsid awk; do
    command -v "$tool" >/dev/null || die "$tool is required; install it first"
  done
}

cmd_up() {
  require_tools
  if network_running; then
    info "network already up; $RUN_DIR/network.json describes it"
    return 0
  fi

  if any_process_alive || [[ -d "$RUN_DIR" ]]; then
    info "clearing a previous, partial network first"
    cmd_down
  fi

  local started=$SECONDS
  mkdir -p "$LOGS" "$PIDS"
  touch "$RUN_MARKER"
  trap on_step_failure EXIT
  STEP_TOTAL=10

  step "building Fabric $FABRIC_RELEASE (cached after the first time)" build.log
  # The build's own progress lines go to the terminal as well: a cold build is long.
  # shellcheck disable=SC2094 # both sides append to the log; nothing reads it
  cmd_build 2>>"$STEP_LOG" | tee -a "$STEP_LOG"
  step "generating crypto material for OrdererMSP, CoopMSP, MakerMSP" crypto.log
  check_ports_free
  generate_crypto
  step "writing node configs and the $CHANNEL channel genesis block" config.log
  write_configs
  step "starting orderer on 127.0.0.1:$ORDERER_PORT" orderer.log
  start_orderer
  step "starting peers on 127.0.0.1:$COOP_PEER_PORT and 127.0.0.1:$MAKER_PEER_PORT" peers.log
  start_peers
  step "creating channel $CHANNEL and joining both peers" channel.log
  create_channel
  join_peers
  step "building chaincode from $CC_SRC" chaincode-build.log
  build_chaincode
  step "packaging and installing chaincode $CC_NAME (ccaas) on both peers" chaincode-install.log
  install_chaincode
  start_chaincode_servers
  step "approving and committing chaincode $CC_NAME for both organisations" chaincode-commit.log
  approve_and_commit
  step "checking health and querying through the chaincode" health.log
  query_chaincode_health
  write_network_json

  STEP_NAME=""
  trap - EXIT
  info "network up in $((SECONDS - started))s; connection file $RUN_DIR/network.json"
}

cmd_down() {
  stop_processes "${PROCESSES[@]}"
  if [[ -f "$RUN_MARKER" ]]; then
    rm -rf "$RUN_DIR"
    info "network down; removed $RUN_DIR"
  elif [[ -d "$RUN_DIR" ]] && [[ -n "$(ls -A "$RUN_DIR")" ]]; then
    die "$RUN_DIR is not a network run directory (no $(basename "$RUN_MARKER")); not removing it"
  else
    rm -rf "$RUN_DIR"
    info "network down"
  fi
}

main() {
  case "${1:-}" in
    build) cmd_build ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    define) shift && cmd_define "$@" ;;
    *) die "usage: network.sh build|up|down|status|define NAME..." ;;
  esac
}

main "$@"
