# containers.conf and storage.conf for podman and buildah on this kind of
# machine (sourced by scripts/setup-clients). Files we write start with
# MARK; a file without it belongs to the admin and is left alone.
MARK='# Written by ch-run-oci scripts/setup-clients; rewritten on every run.'

# write_if_ours FILE CONTENT: (re)write FILE unless someone else owns it.
write_if_ours() {
  local file=$1 content=$2
  if [[ -e $file ]] && ! head -n1 "$file" | grep -qF "$MARK"; then
    echo "setup-clients: leaving $file alone (not written by us)" >&2
    return 0
  fi
  mkdir -p "$(dirname "$file")"
  printf '%s\n%s\n' "$MARK" "$content" >"$file.tmp"
  mv "$file.tmp" "$file"
}

# containers_conf EXE: the system-wide drop-in (root and rootless users both read it).
containers_conf() {
  local exe=$1 nofile nproc
  # Root here lacks CAP_SYS_RESOURCE: podman's default root ulimits (1048576)
  # are above the hard limits, so every runtime would fail setrlimit.
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [[ $nofile == unlimited ]] && nofile=1048576
  # podman lowers its own RLIMIT_NPROC to 32768 when it starts (seen with
  # strace), so conmon and the runtime can never raise a container above it.
  if [[ $nproc == unlimited ]] || ((nproc > 32768)); then nproc=32768; fi
  cat <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
# No systemd and no journald on these machines.
cgroup_manager = "cgroupfs"
events_logger = "file"

# podman decides per runtime *name* whether to pass --log-format=json --log FILE
# (runtime_supports_json) and whether --cgroups=disabled is allowed
# (runtime_supports_nocgroup). With --runtime=/some/path the name is the
# path's base name, so any path ending in /ch-run-oci qualifies. The lists
# replace podman's defaults, hence crun, runc, ... repeated here.
# podman 4.3 reads runtime_supports_nocgroup (singular; its man page says
# nocgroups, a key it does not read); older podman read the plural.
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "ch-run-oci"]
runtime_supports_nocgroup = ["crun", "krun", "ch-run-oci"]
runtime_supports_nocgroups = ["crun", "krun", "ch-run-oci"]

[engine.runtimes]
ch-run-oci = ["$exe"]
crun = ["/usr/bin/crun"]
CONF
}

# storage_conf_root
storage_conf_root() {
  cat <<'CONF'
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
}

# storage_conf_user HOME UID RANGES(yes|no)
storage_conf_user() {
  local home=$1 uid=$2 ranges=$3
  cat <<CONF
[storage]
driver = "overlay"
runroot = "/run/user/$uid/containers"
graphroot = "$home/.local/share/containers/storage"
CONF
  if [[ $ranges == no ]]; then
    # Without subuids every file of an image belongs to the user: chown to
    # any other id fails, and must not fail the pull/import.
    cat <<'CONF'

[storage.options.overlay]
ignore_chown_errors = "true"
CONF
  fi
}
