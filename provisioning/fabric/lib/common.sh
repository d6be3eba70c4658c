# Names, ports, paths and small helpers shared by the network.sh commands.

CHANNEL="${COCOA_CHANNEL:-cocoa}"
CC_NAME="${COCOA_CC_NAME:-cocoa}"
CC_VERSION="${COCOA_CC_VERSION:-1.0}"
CC_SEQUENCE="${COCOA_CC_SEQUENCE:-1}"
CC_SRC="${COCOA_CC_SRC:-$(cd "$HERE/../.." && pwd)/chaincode}"
# Any one organisation's peer may endorse by default; the chaincode puts a
# key-level (state-based) policy on assets whose changes need both parties.
CC_POLICY="${COCOA_CC_POLICY:-OR('CoopMSP.peer','MakerMSP.peer')}"
# The chaincode keeps its private data in the implicit per-organisation
# collections, which need no collections config; set this to add explicit ones.
CC_COLLECTIONS="${COCOA_CC_COLLECTIONS:-}"

RUN_DIR="${COCOA_FABRIC_RUN:-${XDG_STATE_HOME:-$HOME/.local/state}/cocoa-trace/fabric-network}"
CRYPTO="$RUN_DIR/crypto"
LOGS="$RUN_DIR/logs"
PIDS="$RUN_DIR/pids"
# Marks a directory as a run directory, so `down` never deletes anything else.
RUN_MARKER="$RUN_DIR/.cocoa-fabric-network"

# One block of loopback ports; move it with COCOA_FABRIC_PORT_BASE.
PORT_BASE="${COCOA_FABRIC_PORT_BASE:-17050}"
ORDERER_PORT=$((PORT_BASE))
ORDERER_ADMIN_PORT=$((PORT_BASE + 1))
ORDERER_OPS_PORT=$((PORT_BASE + 2))
COOP_PEER_PORT=$((PORT_BASE + 10))
COOP_CCLISTEN_PORT=$((PORT_BASE + 11))
COOP_OPS_PORT=$((PORT_BASE + 12))
COOP_CC_PORT=$((PORT_BASE + 13))
MAKER_PEER_PORT=$((PORT_BASE + 20))
MAKER_CCLISTEN_PORT=$((PORT_BASE + 21))
MAKER_OPS_PORT=$((PORT_BASE + 22))
MAKER_CC_PORT=$((PORT_BASE + 23))

ORGS=(coop maker)
ORDERER_ORG_DIR="$CRYPTO/ordererOrganizations/orderer.cocoa.test"
ORDERER_TLS="$ORDERER_ORG_DIR/orderers/orderer0.orderer.cocoa.test/tls"
ORDERER_CA="$ORDERER_TLS/ca.crt"
ORDERER_ADMIN_TLS="$ORDERER_ORG_DIR/users/Admin@orderer.cocoa.test/tls"

info() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Per-organisation values: org_msp coop -> CoopMSP, and so on.
org_msp() { case "$1" in coop) echo CoopMSP ;; maker) echo MakerMSP ;; esac; }
org_domain() { echo "$1.cocoa.test"; }
org_dir() { echo "$CRYPTO/peerOrganizations/$(org_domain "$1")"; }
org_port() {
  local org="${1^^}" kind="${2^^}"
  local var="${org}_${kind}_PORT"
  echo "${!var}"
}
peer_tls() { echo "$(org_dir "$1")/peers/peer0.$(org_domain "$1")/tls"; }
peer_address() { echo "127.0.0.1:$(org_port "$1" peer)"; }
user_msp() { echo "$(org_dir "$1")/users/$2@$(org_domain "$1")/msp"; }

# Current step, so a failure can name it and the log to read.
STEP_NUMBER=0
STEP_TOTAL=0
STEP_NAME=""
STEP_LOG=""

step() {
  STEP_NUMBER=$((STEP_NUMBER + 1))
  STEP_NAME="$1"
  STEP_LOG="$LOGS/$2"
  info "[$STEP_NUMBER/$STEP_TOTAL] $STEP_NAME …"
}

on_step_failure() {
  local status=$?
  ((status != 0)) && [[ -n "$STEP_NAME" ]] || return 0
  printf 'error: step %s/%s failed: %s\n' "$STEP_NUMBER" "$STEP_TOTAL" "$STEP_NAME" >&2
  if [[ -f "$STEP_LOG" ]]; then
    printf 'log: %s (last lines below)\n' "$STEP_LOG" >&2
    tail -n 25 "$STEP_LOG" >&2
  fi
  exit "$status"
}

# Runs a command with its output appended to the current step's log.
logged() {
  printf '$ %s\n' "$*" >>"$STEP_LOG"
  "$@" >>"$STEP_LOG" 2>&1
}

# Starts a long-running process in its own session, logging to LOGS/NAME.log.
start_process() {
  local name="$1"
  shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

# True when PID runs one of our binaries (or is still exec'ing into one through
# setsid and env), so a stale pid file whose number the system has since given
# to another program is never signalled.
pid_is_ours() {
  local cmdline
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")" || return 1
  [[ "$cmdline" == *"$FABRIC_BIN/"* || "$cmdline" == *"$RUN_DIR/"* ]]
}

process_alive() {
  local pidfile="$PIDS/$1.pid"
  [[ -f "$pidfile" ]] && pid_is_ours "$(cat "$pidfile")"
}

# Stops the named processes together: each takes about two seconds to shut
# down gracefully, so one after another would make `down` slow.
stop_processes() {
  local name pid waited=0 pids=()
  for name in "$@"; do
    [[ -f "$PIDS/$name.pid" ]] || continue
    pid="$(cat "$PIDS/$name.pid")"
    rm -f "$PIDS/$name.pid"
    pid_is_ours "$pid" || continue
    # setsid made the process a group leader, so this reaches its children too.
    kill -TERM -- "-$pid" 2>/dev/null || true
    pids+=("$pid")
  done
  while ((${#pids[@]} > 0 && waited < 100)) && any_pid_alive "${pids[@]}"; do
    sleep 0.1
    waited=$((waited + 1))
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      warn "pid $pid ignored SIGTERM for 10s; sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  done
}

any_pid_alive() {
  local pid
  for pid in "$@"; do
    kill -0 "$pid" 2>/dev/null && return 0
  done
  return 1
}

# Waits until an operations endpoint answers /healthz with status OK.
wait_healthy() {
  local name="$1" port="$2" tries=0
  until curl -fsS --cacert "$3" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    process_alive "$name" || {
      STEP_LOG="$LOGS/$name.log"
      die "$name exited while starting"
    }
    tries=$((tries + 1))
    ((tries < 120)) || {
      STEP_LOG="$LOGS/$name.log"
      die "$name did not report healthy on port $port within 60s"
    }
    sleep 0.5
  done
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
