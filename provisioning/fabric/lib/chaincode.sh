# Chaincode as a service: build the server, package, install, run, approve, commit.

CC_DIR_NAME=chaincode
CC_TLS="${COCOA_CC_TLS:-true}"

cc_dir() { echo "$RUN_DIR/$CC_DIR_NAME"; }
cc_tls() { echo "$(org_dir "$1")/peers/chaincode.$(org_domain "$1")/tls"; }

build_chaincode() {
  [[ -f "$CC_SRC/go.mod" ]] || die "no chaincode Go module at $CC_SRC (set COCOA_CC_SRC)"
  mkdir -p "$(cc_dir)"
  (cd "$CC_SRC" && logged go build -p "$(build_jobs)" -trimpath \
    -o "$(cc_dir)/cocoa-chaincode" .)
}

# connection.json tells the peer where the org's chaincode server listens and
# which CA vouches for its TLS certificate.
write_connection_json() {
  local org="$1" out="$2" root_cert=""
  if [[ "$CC_TLS" == true ]]; then
    root_cert="$(awk '{printf "%s\\n", $0}' "$(cc_tls "$org")/ca.crt")"
  fi
  cat >"$out" <<JSON
{
  "address": "127.0.0.1:$(org_port "$org" cc)",
  "dial_timeout": "10s",
  "tls_required": $CC_TLS,
  "client_auth_required": false,
  "root_cert": "$root_cert"
}
JSON
}

# Each organisation runs its own chaincode server, so each packages its own
# connection.json and gets its own package id; both approve the same
# definition (name, version, sequence, policy, collections).
package_chaincode() {
  local org="$1" work
  work="$(cc_dir)/package-$org"
  mkdir -p "$work/src"
  write_connection_json "$org" "$work/src/connection.json"
  printf '{"type": "ccaas", "label": "%s"}\n' "${CC_NAME}_${CC_VERSION}_$org" \
    >"$work/metadata.json"
  tar -C "$work/src" -czf "$work/code.tar.gz" connection.json
  tar -C "$work" -czf "$(cc_dir)/$CC_NAME-$org.tar.gz" metadata.json code.tar.gz
}

package_id() {
  cat "$(cc_dir)/$1.package-id"
}

install_chaincode() {
  local org pkg
  for org in "${ORGS[@]}"; do
    package_chaincode "$org"
    pkg="$(cc_dir)/$CC_NAME-$org.tar.gz"
    logged peer_as "$org" Admin lifecycle chaincode install "$pkg"
    peer_as "$org" Admin lifecycle chaincode calculatepackageid "$pkg" \
      >"$(cc_dir)/$org.package-id"
  done
}

# The chaincode's main serves TLS when CHAINCODE_TLS_CERT and _KEY name PEM files.
chaincode_server_env() {
  local org="$1" tls
  tls="$(cc_tls "$org")"
  CC_ENV=(CHAINCODE_SERVER_ADDRESS="127.0.0.1:$(org_port "$org" cc)"
    CHAINCODE_ID="$(package_id "$org")")
  if [[ "$CC_TLS" == true ]]; then
    CC_ENV+=(CHAINCODE_TLS_CERT="$tls/server.crt" CHAINCODE_TLS_KEY="$tls/server.key")
  fi
}

start_chaincode_servers() {
  local org
  for org in "${ORGS[@]}"; do
    chaincode_server_env "$org"
    start_process "chaincode-$org" env "${CC_ENV[@]}" "$(cc_dir)/cocoa-chaincode"
  done
  sleep 1
  for org in "${ORGS[@]}"; do
    process_alive "chaincode-$org" || {
      STEP_LOG="$LOGS/chaincode-$org.log"
      die "chaincode server of $org exited at start"
    }
  done
}

orderer_flags() {
  ORDERER_FLAGS=(-o "127.0.0.1:$ORDERER_PORT" --tls --cafile "$ORDERER_CA")
}

definition_flags() {
  DEFINITION_FLAGS=(--channelID "$CHANNEL" --name "${1:-$CC_NAME}"
    --version "$CC_VERSION" --sequence "$CC_SEQUENCE"
    --signature-policy "$CC_POLICY")
  if [[ -n "$CC_COLLECTIONS" ]]; then
    DEFINITION_FLAGS+=(--collections-config "$CC_COLLECTIONS")
  fi
}

approve_and_commit() {
  local org
  orderer_flags
  definition_flags
  all_peer_flags
  for org in "${ORGS[@]}"; do
    logged peer_as "$org" Admin lifecycle chaincode approveformyorg \
      "${ORDERER_FLAGS[@]}" "${DEFINITION_FLAGS[@]}" \
      --package-id "$(package_id "$org")" --waitForEvent
  done
  logged peer_as coop Admin lifecycle chaincode checkcommitreadiness \
    "${DEFINITION_FLAGS[@]}" --output json
  logged peer_as coop Admin lifecycle chaincode commit \
    "${ORDERER_FLAGS[@]}" "${DEFINITION_FLAGS[@]}" "${PEER_FLAGS[@]}" --waitForEvent
}

all_peer_flags() {
  local org
  PEER_FLAGS=()
  for org in "${ORGS[@]}"; do
    PEER_FLAGS+=(--peerAddresses "$(peer_address "$org")"
      --tlsRootCertFiles "$(peer_tls "$org")/ca.crt")
  done
}

# Every contract-API chaincode answers this system query, so it proves the
# peer reaches the chaincode server without depending on our own contract.
query_chaincode_health() {
  local org tries
  for org in "${ORGS[@]}"; do
    tries=0
    until logged peer_as "$org" User1 chaincode query -C "$CHANNEL" -n "$CC_NAME" \
      -c '{"function":"org.hyperledger.fabric:GetMetadata","Args":[]}'; do
      tries=$((tries + 1))
      ((tries < 20)) || die "query through chaincode $CC_NAME on $org's peer kept failing"
      sleep 1
    done
  done
}

# A chaincode name Fabric accepts (its lifecycle refuses anything else).
CC_NAME_RE='^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$'

# Commits one more definition, NAME, backed by the package already installed and
# the chaincode servers already running. The peer keeps world state, private
# data and history per chaincode name, so each definition starts from an empty
# ledger of its own while the same servers answer for all of them.
define_chaincode() {
  local name="$1" org pid pids=()
  STEP_LOG="$LOGS/define-$name.log"
  if peer_as coop Admin lifecycle chaincode querycommitted \
    --channelID "$CHANNEL" --name "$name" >/dev/null 2>&1; then
    info "chaincode $name is defined already"
    return 0
  fi

  orderer_flags
  definition_flags "$name"
  all_peer_flags
  # Approvals of one name by two orgs touch separate keys; they run together.
  for org in "${ORGS[@]}"; do
    logged peer_as "$org" Admin lifecycle chaincode approveformyorg \
      "${ORDERER_FLAGS[@]}" "${DEFINITION_FLAGS[@]}" \
      --package-id "$(package_id "$org")" --waitForEvent &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || die "approving $name failed; see $STEP_LOG"
  done
  logged peer_as coop Admin lifecycle chaincode commit \
    "${ORDERER_FLAGS[@]}" "${DEFINITION_FLAGS[@]}" "${PEER_FLAGS[@]}" --waitForEvent ||
    die "committing $name failed; see $STEP_LOG"
  info "chaincode $name defined on channel $CHANNEL"
}

cmd_define() {
  local name pid failed=0 pids=()
  (($# > 0)) || die "usage: network.sh define NAME [NAME...]"
  for name in "$@"; do
    [[ "$name" =~ $CC_NAME_RE ]] || die "$name is not a chaincode name Fabric accepts"
  done
  network_running || die "the network is not up; run network.sh up first"

  # Definitions of different names never conflict, so they are ordered together.
  for name in "$@"; do
    define_chaincode "$name" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=$((failed + 1))
  done
  ((failed == 0)) || die "$failed of $# definitions failed; logs in $LOGS/define-*.log"
}
