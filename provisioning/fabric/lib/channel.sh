# The cocoa channel: the orderer joins through its admin API, then each peer.

create_channel() {
  logged "$FABRIC_BIN/osnadmin" channel join \
    --channelID "$CHANNEL" --config-block "$RUN_DIR/channel/$CHANNEL.block" \
    -o "127.0.0.1:$ORDERER_ADMIN_PORT" --ca-file "$ORDERER_CA" \
    --client-cert "$ORDERER_ADMIN_TLS/client.crt" \
    --client-key "$ORDERER_ADMIN_TLS/client.key"
  wait_channel_active
}

wait_channel_active() {
  local tries=0
  until "$FABRIC_BIN/osnadmin" channel list --channelID "$CHANNEL" \
    -o "127.0.0.1:$ORDERER_ADMIN_PORT" --ca-file "$ORDERER_CA" \
    --client-cert "$ORDERER_ADMIN_TLS/client.crt" \
    --client-key "$ORDERER_ADMIN_TLS/client.key" 2>&1 |
    grep -q '"status": "active"'; do
    tries=$((tries + 1))
    ((tries < 60)) || die "orderer did not make channel $CHANNEL active within 30s"
    sleep 0.5
  done
}

join_peers() {
  local org
  for org in "${ORGS[@]}"; do
    logged peer_as "$org" Admin channel join -b "$RUN_DIR/channel/$CHANNEL.block"
  done
}
