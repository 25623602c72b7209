# Test users for the client suite (sourced by scripts/setup-clients).
#   chroci-sub   has /etc/subuid and /etc/subgid ranges (a typical desktop user);
#   chroci-test  has none (a typical CI runner); the integration tests make it
#                the same way, so both set-ups agree on what it is.

# ensure_user NAME WITH_RANGES(yes|no)
ensure_user() {
  local name=$1 ranges=$2
  if ! getent passwd "$name" >/dev/null; then
    if [[ $ranges == yes ]]; then
      useradd --create-home --shell /bin/sh "$name"
    else
      useradd --create-home --shell /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$name"
    fi
  fi
  local f
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    if [[ $ranges == yes ]]; then
      grep -q "^$name:" "$f" || add_range "$name" "$f"
    elif grep -q "^$name:" "$f"; then
      # A range would silently turn this user into the other kind of test user.
      sed -i "/^$name:/d" "$f"
    fi
  done
}

# add_range NAME FILE: 65536 ids after the highest range already in FILE (>= 100000).
add_range() {
  local name=$1 f=$2 start
  start=$(awk -F: 'BEGIN { m = 100000 } NF == 3 && $2 + $3 > m { m = $2 + $3 } END { print m }' "$f")
  echo "$name:$start:65536" >>"$f"
}

# ensure_runtime_dir NAME: what logind would make, since this machine has no logind.
ensure_runtime_dir() {
  local name=$1 uid gid
  uid=$(id -u "$name")
  gid=$(id -g "$name")
  mkdir -p "/run/user/$uid"
  chown "$uid:$gid" "/run/user/$uid"
  chmod 0700 "/run/user/$uid"
}

# as_user NAME CMD...: a login-like clean environment, as the tests use.
as_user() {
  local name=$1 uid home
  shift
  uid=$(id -u "$name")
  home=$(getent passwd "$name" | cut -d: -f6)
  (cd / && runuser -u "$name" -- env -i HOME="$home" USER="$name" LOGNAME="$name" \
    PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="/run/user/$uid" "$@")
}
