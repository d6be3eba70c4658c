# Crypto material, node configuration and the orderer and peer processes.

generate_crypto() {
  rm -rf "$CRYPTO"
  logged "$FABRIC_BIN/cryptogen" generate \
    --config "$HERE/config/crypto-config.yaml" --output "$CRYPTO"
}

render() {
  sed -e "s|@CRYPTO@|$CRYPTO|g" \
    -e "s|@ORDERER_TLS@|$ORDERER_TLS|g" \
    -e "s|@ORDERER_PORT@|$ORDERER_PORT|g" \
    -e "s|@COOP_PEER_PORT@|$COOP_PEER_PORT|g" \
    -e "s|@MAKER_PEER_PORT@|$MAKER_PEER_PORT|g" \
    "$1"
}

# core.yaml from the release's sampleconfig, with the external builder pointing
# at our ccaas builder and no Docker endpoint; everything per-peer comes from
# CORE_* variables at start.
write_core_yaml() {
  local out="$1/core.yaml"
  sed -e "s|path: /opt/hyperledger/ccaas_builder|path: $CCAAS_BUILDER_DIR|" \
    -e 's|endpoint: unix:///var/run/docker.sock|endpoint: ""|' \
    "$SAMPLECONFIG_DIR/core.yaml" >"$out"
  grep -q "path: $CCAAS_BUILDER_DIR" "$out" ||
    die "sampleconfig core.yaml has no ccaas_builder entry to point at $CCAAS_BUILDER_DIR"
  grep -q 'endpoint: ""' "$out" ||
    die "sampleconfig core.yaml has no docker endpoint line to empty"
}

write_configs() {
  local org
  mkdir -p "$RUN_DIR/config/orderer" "$RUN_DIR/channel"
  render "$HERE/config/configtx.yaml.in" >"$RUN_DIR/config/configtx.yaml"
  cp "$SAMPLECONFIG_DIR/orderer.yaml" "$RUN_DIR/config/orderer/orderer.yaml"
  for org in "${ORGS[@]}"; do
    mkdir -p "$RUN_DIR/config/peer-$org"
    write_core_yaml "$RUN_DIR/config/peer-$org"
  done
  FABRIC_CFG_PATH="$RUN_DIR/config" logged "$FABRIC_BIN/configtxgen" \
    -profile CocoaChannel -channelID "$CHANNEL" \
    -outputBlock "$RUN_DIR/channel/$CHANNEL.block"
}

orderer_env() {
  local msp="$ORDERER_ORG_DIR/orderers/orderer0.orderer.cocoa.test/msp"
  local data="$RUN_DIR/data/orderer"
  ORDERER_ENV=(
    FABRIC_CFG_PATH="$RUN_DIR/config/orderer"
    FABRIC_LOGGING_SPEC="${COCOA_FABRIC_LOGGING:-INFO}"
    ORDERER_GENERAL_LISTENADDRESS=127.0.0.1
    ORDERER_GENERAL_LISTENPORT="$ORDERER_PORT"
    ORDERER_GENERAL_LOCALMSPID=OrdererMSP
    ORDERER_GENERAL_LOCALMSPDIR="$msp"
    ORDERER_GENERAL_BOOTSTRAPMETHOD=none
    ORDERER_GENERAL_TLS_ENABLED=true
    ORDERER_GENERAL_TLS_PRIVATEKEY="$ORDERER_TLS/server.key"
    ORDERER_GENERAL_TLS_CERTIFICATE="$ORDERER_TLS/server.crt"
    ORDERER_GENERAL_TLS_ROOTCAS="[$ORDERER_CA]"
    ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$ORDERER_TLS/server.crt"
    ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$ORDERER_TLS/server.key"
    ORDERER_GENERAL_CLUSTER_ROOTCAS="[$ORDERER_CA]"
    ORDERER_CHANNELPARTICIPATION_ENABLED=true
    ORDERER_ADMIN_LISTENADDRESS="127.0.0.1:$ORDERER_ADMIN_PORT"
    ORDERER_ADMIN_TLS_ENABLED=true
    ORDERER_ADMIN_TLS_CERTIFICATE="$ORDERER_TLS/server.crt"
    ORDERER_ADMIN_TLS_PRIVATEKEY="$ORDERER_TLS/server.key"
    ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true
    ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$ORDERER_CA]"
    ORDERER_OPERATIONS_LISTENADDRESS="127.0.0.1:$ORDERER_OPS_PORT"
    ORDERER_OPERATIONS_TLS_ENABLED=true
    ORDERER_OPERATIONS_TLS_CERTIFICATE="$ORDERER_TLS/server.crt"
    ORDERER_OPERATIONS_TLS_PRIVATEKEY="$ORDERER_TLS/server.key"
    ORDERER_FILELEDGER_LOCATION="$data/ledger"
    ORDERER_CONSENSUS_WALDIR="$data/etcdraft/wal"
    ORDERER_CONSENSUS_SNAPDIR="$data/etcdraft/snapshot"
  )
}

peer_env() {
  local org="$1" tls msp data address
  tls="$(peer_tls "$org")"
  msp="$(org_dir "$org")/peers/peer0.$(org_domain "$org")/msp"
  data="$RUN_DIR/data/peer-$org"
  address="$(peer_address "$org")"
  PEER_ENV=(
    FABRIC_CFG_PATH="$RUN_DIR/config/peer-$org"
    FABRIC_LOGGING_SPEC="${COCOA_FABRIC_LOGGING:-INFO}"
    CORE_PEER_ID="peer0.$(org_domain "$org")"
    CORE_PEER_ADDRESS="$address"
    CORE_PEER_LISTENADDRESS="$address"
    CORE_PEER_CHAINCODEADDRESS="127.0.0.1:$(org_port "$org" cclisten)"
    CORE_PEER_CHAINCODELISTENADDRESS="127.0.0.1:$(org_port "$org" cclisten)"
    CORE_PEER_GOSSIP_BOOTSTRAP="$address"
    CORE_PEER_GOSSIP_EXTERNALENDPOINT="$address"
    CORE_PEER_LOCALMSPID="$(org_msp "$org")"
    CORE_PEER_MSPCONFIGPATH="$msp"
    CORE_PEER_TLS_ENABLED=true
    CORE_PEER_TLS_CERT_FILE="$tls/server.crt"
    CORE_PEER_TLS_KEY_FILE="$tls/server.key"
    CORE_PEER_TLS_ROOTCERT_FILE="$tls/ca.crt"
    CORE_PEER_FILESYSTEMPATH="$data"
    CORE_LEDGER_SNAPSHOTS_ROOTDIR="$data/snapshots"
    CORE_VM_ENDPOINT=
    CORE_OPERATIONS_LISTENADDRESS="127.0.0.1:$(org_port "$org" ops)"
    CORE_OPERATIONS_TLS_ENABLED=true
    CORE_OPERATIONS_TLS_CERT_FILE="$tls/server.crt"
    CORE_OPERATIONS_TLS_KEY_FILE="$tls/server.key"
  )
}

check_ports_free() {
  local port
  for port in "$ORDERER_PORT" "$ORDERER_ADMIN_PORT" "$ORDERER_OPS_PORT" \
    "$COOP_PEER_PORT" "$COOP_CCLISTEN_PORT" "$COOP_OPS_PORT" "$COOP_CC_PORT" \
    "$MAKER_PEER_PORT" "$MAKER_CCLISTEN_PORT" "$MAKER_OPS_PORT" "$MAKER_CC_PORT"; do
    if port_in_use "$port"; then
      die "port $port is taken; stop what uses it or set COCOA_FABRIC_PORT_BASE"
    fi
  done
}

start_orderer() {
  orderer_env
  mkdir -p "$RUN_DIR/data/orderer"
  start_process orderer env "${ORDERER_ENV[@]}" "$FABRIC_BIN/orderer"
  wait_healthy orderer "$ORDERER_OPS_PORT" "$ORDERER_CA"
}

start_peers() {
  local org
  for org in "${ORGS[@]}"; do
    peer_env "$org"
    mkdir -p "$RUN_DIR/data/peer-$org"
    start_process "peer-$org" env "${PEER_ENV[@]}" "$FABRIC_BIN/peer" node start
  done
  for org in "${ORGS[@]}"; do
    wait_healthy "peer-$org" "$(org_port "$org" ops)" "$(peer_tls "$org")/ca.crt"
  done
}

# Runs the peer CLI as USER (Admin, User1) of ORG against that org's peer.
peer_as() {
  local org="$1" user="$2"
  shift 2
  env FABRIC_CFG_PATH="$RUN_DIR/config/peer-$org" \
    CORE_PEER_LOCALMSPID="$(org_msp "$org")" \
    CORE_PEER_MSPCONFIGPATH="$(user_msp "$org" "$user")" \
    CORE_PEER_ADDRESS="$(peer_address "$org")" \
    CORE_PEER_TLS_ENABLED=true \
    CORE_PEER_TLS_ROOTCERT_FILE="$(peer_tls "$org")/ca.crt" \
    "$FABRIC_BIN/peer" "$@"
}
