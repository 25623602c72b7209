# Host quirks of machines without systemd/udev/logind that stop podman and
# buildah (sourced by scripts/setup-clients). Each fix is what a normal boot
# of a Debian machine would have done; none survives a reboot, so every run
# of setup-clients applies them again.

fix_host() {
  fix_tun
  fix_hybrid_cgroups
  fix_root_propagation
}

# udev makes /dev/net/tun 0666; without udev it is 0600 and rootless
# slirp4netns cannot open it.
fix_tun() {
  if [[ ! -e /dev/net/tun ]]; then
    mkdir -p /dev/net
    mknod -m 0666 /dev/net/tun c 10 200
  fi
  chmod 0666 /dev/net/tun || echo "setup-clients: cannot make /dev/net/tun 0666; rootless networking will fail" >&2
}

# A cgroup v1 machine whose extra cgroup2 mount ("hybrid") still holds a
# controller (here: hugetlb, the one controller not mounted as v1) makes crun
# refuse every root container ("cgroups in hybrid mode not supported, drop
# all controllers from cgroupv2"). An unused controller can move to a v1
# hierarchy of its own, which is where systemd's hybrid layout keeps them.
fix_hybrid_cgroups() {
  local fstype unified ctrl
  fstype=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || true)
  [[ $fstype == tmpfs ]] || return 0 # pure v2 (cgroup2fs) or no cgroups: nothing to do
  unified=$(findmnt -n -t cgroup2 -o TARGET | head -n1)
  [[ -n $unified && -r $unified/cgroup.controllers ]] || return 0
  for ctrl in $(cat "$unified/cgroup.controllers"); do
    if [[ -s $unified/cgroup.subtree_control ]]; then
      echo "setup-clients: $ctrl is in use on $unified; crun will refuse root containers" >&2
      continue
    fi
    mkdir -p "/sys/fs/cgroup/$ctrl"
    mount -t cgroup -o "$ctrl" cgroup "/sys/fs/cgroup/$ctrl" ||
      echo "setup-clients: cannot move $ctrl off $unified; crun will refuse root containers" >&2
  done
}

# systemd makes / a shared mount; rootless podman warns, and mounts made in
# its namespace are not seen by the host, if it is private.
fix_root_propagation() {
  [[ $(findmnt -n -o PROPAGATION /) == shared ]] || mount --make-rshared / ||
    echo "setup-clients: / stays a private mount; rootless podman will warn" >&2
}
