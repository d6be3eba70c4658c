# Builds the pinned Fabric binaries into the cache; sourced by network.sh.

# Fabric's go.mod says `module github.com/hyperledger/fabric` without a /v2
# suffix, so the v2.5.N tags are not valid versions of that module for the go
# command. A release is addressed by its pseudo-version instead: the tagged
# commit, with the newest valid ancestor tag (v1.4.0-rc1) as the base.
FABRIC_RELEASE="${FABRIC_RELEASE:-2.5.9}"
FABRIC_MODULE="github.com/hyperledger/fabric"
FABRIC_PSEUDO_VERSION="${FABRIC_PSEUDO_VERSION:-v1.4.0-rc1.0.20240618194258-7c3876255bf0}"

CACHE_ROOT="${COCOA_FABRIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cocoa-trace/fabric-$FABRIC_RELEASE}"
FABRIC_BIN="$CACHE_ROOT/bin"
SAMPLECONFIG_DIR="$CACHE_ROOT/sampleconfig"

# Fabric's own ccaas_builder is a separate Go module
# (github.com/hyperledger/fabric/ccaas_builder) that is left out of the main
# module's zip and has no release tags, so it cannot be fetched through a Go
# module proxy at a pinned version. Ours is three short scripts that follow
# the same external builder protocol.
CCAAS_BUILDER_DIR="$HERE/ccaas_builder"

FABRIC_TOOLS=(peer orderer configtxgen osnadmin cryptogen)

build_jobs() {
  # One package compiles at a time so the build leaves a core for others.
  echo "${COCOA_BUILD_JOBS:-1}"
}

fabric_built() {
  local tool
  for tool in "${FABRIC_TOOLS[@]}"; do
    [[ -x "$FABRIC_BIN/$tool" ]] || return 1
  done
  [[ -f "$SAMPLECONFIG_DIR/core.yaml" ]]
}

fabric_module_dir() {
  # `go install pkg@version` also asks the proxy for the module's version list
  # (to look for deprecations), and a mirror that serves pinned versions only
  # refuses that; `go mod download` asks for the pinned version alone, and the
  # build then runs inside that read-only module copy.
  go mod download -json "$FABRIC_MODULE@$FABRIC_PSEUDO_VERSION" |
    sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

go_build_into() {
  local out="$1" pkg="$2"
  (cd "$FABRIC_SRC" && GOFLAGS="-mod=mod -buildvcs=false" \
    go build -p "$(build_jobs)" -trimpath -o "$out" "./$pkg")
}

copy_sampleconfig() {
  [[ -d "$FABRIC_SRC/sampleconfig" ]] || die "no sampleconfig in $FABRIC_SRC"
  rm -rf "$SAMPLECONFIG_DIR"
  cp -r "$FABRIC_SRC/sampleconfig" "$SAMPLECONFIG_DIR"
  chmod -R u+w "$SAMPLECONFIG_DIR"
}

cmd_build() {
  command -v go >/dev/null || die "go is not installed; Fabric is built from source"
  if fabric_built; then
    info "Fabric $FABRIC_RELEASE already built in $CACHE_ROOT"
    return 0
  fi

  mkdir -p "$FABRIC_BIN"
  local started=$SECONDS tool
  FABRIC_SRC="$(fabric_module_dir)"
  [[ -d "$FABRIC_SRC" ]] || die "go mod download of Fabric $FABRIC_RELEASE failed"
  for tool in "${FABRIC_TOOLS[@]}"; do
    if [[ ! -x "$FABRIC_BIN/$tool" ]]; then
      info "building $tool (Fabric $FABRIC_RELEASE)"
      go_build_into "$FABRIC_BIN/$tool" "cmd/$tool"
    fi
  done
  copy_sampleconfig
  info "Fabric $FABRIC_RELEASE built into $CACHE_ROOT in $((SECONDS - started))s"
}
