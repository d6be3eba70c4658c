# `status` and the connection file that tests and tools read.

PROCESSES=(orderer peer-coop peer-maker chaincode-coop chaincode-maker)

network_running() {
  local name
  for name in "${PROCESSES[@]}"; do
    process_alive "$name" || return 1
  done
  [[ -f "$RUN_DIR/network.json" ]]
}

any_process_alive() {
  local name
  for name in "${PROCESSES[@]}"; do
    process_alive "$name" && return 0
  done
  return 1
}

health_of() {
  local port="$1" ca="$2"
  [[ -f "$ca" ]] || { echo "-"; return; }
  curl -fsS --max-time 2 --cacert "$ca" "https://127.0.0.1:$port/healthz" 2>/dev/null |
    grep -q '"status":"OK"' && echo OK || echo failing
}

cmd_status() {
  if [[ ! -d "$PIDS" ]]; then
    info "not running (no state in $RUN_DIR)"
    return 0
  fi

  printf '%-16s %-8s %-8s %-16s %s\n' PROCESS PID STATE LISTEN HEALTHZ
  status_line orderer "$ORDERER_PORT" "$ORDERER_OPS_PORT" "$ORDERER_CA"
  local org
  for org in "${ORGS[@]}"; do
    status_line "peer-$org" "$(org_port "$org" peer)" "$(org_port "$org" ops)" \
      "$(peer_tls "$org")/ca.crt"
  done
  for org in "${ORGS[@]}"; do
    status_line "chaincode-$org" "$(org_port "$org" cc)" "" ""
  done
  info "channel $CHANNEL, chaincode $CC_NAME; logs in $LOGS"
}

status_line() {
  local name="$1" port="$2" ops="$3" ca="$4" pid="-" state=stopped health="-"
  if [[ -f "$PIDS/$name.pid" ]]; then
    pid="$(cat "$PIDS/$name.pid")"
  fi
  if process_alive "$name"; then
    state=running
    [[ -n "$ops" ]] && health="$(health_of "$ops" "$ca")"
  fi
  printf '%-16s %-8s %-8s %-16s %s\n' "$name" "$pid" "$state" "127.0.0.1:$port" "$health"
}

# network.json: everything a client needs to reach the network as either org.
write_network_json() {
  local org first=true
  {
    printf '{\n  "channel": "%s",\n  "chaincode": "%s",\n' "$CHANNEL" "$CC_NAME"
    printf '  "fabric_release": "%s",\n  "bin_dir": "%s",\n' "$FABRIC_RELEASE" "$FABRIC_BIN"
    printf '  "run_dir": "%s",\n' "$RUN_DIR"
    printf '  "orderer": {"address": "127.0.0.1:%s", "tls_ca": "%s"},\n' \
      "$ORDERER_PORT" "$ORDERER_CA"
    printf '  "orgs": {\n'
    for org in "${ORGS[@]}"; do
      $first || printf ',\n'
      first=false
      org_json "$org"
    done
    printf '\n  }\n}\n'
  } >"$RUN_DIR/network.json"
}

org_json() {
  local org="$1"
  printf '    "%s": {\n' "$org"
  printf '      "msp_id": "%s",\n' "$(org_msp "$org")"
  printf '      "peer_address": "%s",\n' "$(peer_address "$org")"
  printf '      "peer_tls_ca": "%s",\n' "$(peer_tls "$org")/ca.crt"
  printf '      "operations": "https://127.0.0.1:%s",\n' "$(org_port "$org" ops)"
  printf '      "config_dir": "%s",\n' "$RUN_DIR/config/peer-$org"
  printf '      "admin_msp": "%s",\n' "$(user_msp "$org" Admin)"
  printf '      "user_msp": "%s",\n' "$(user_msp "$org" User1)"
  printf '      "package_id": "%s"\n' "$(package_id "$org")"
  printf '    }'
}
