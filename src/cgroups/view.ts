// The container's view of /sys/fs/cgroup: the `cgroup` (or `cgroup2`) mount
// that podman, buildah and Docker send shows the container's own cgroups,
// never the host's tree, and always read-only (a container must not raise
// its own limits; runc would honour "rw").
//
// - v1 and hybrid: a tmpfs with one read-only bind per hierarchy of the
//   cgroup the container is in (the host's mount names and its symlinks,
//   cpu -> cpu,cpuacct), then the tmpfs itself made read-only. A hybrid
//   host's cgroup2 mount is shown the same way, or, in a cgroup namespace of
//   the container's own, as a fresh cgroup2 mount rooted at its cgroup.
// - v2: with a cgroup namespace, a fresh read-only cgroup2 mount (its root is
//   the container's cgroup: the runner joins the cgroup before the unshare);
//   without one the kernel refuses a fresh mount in our user namespace, and a
//   read-only bind of the container's cgroup directory shows the same (runc's
//   fallback).
// Without a cgroup of its own (see manager.ts) "its cgroup" is the caller's.
import type { BindStep, FsStep, MountStep } from '../runner/plan';
import type { CgroupMode } from './host';

export interface CgroupView {
  mode: CgroupMode;
  /** v1 hierarchies: the name under /sys/fs/cgroup and the host directory of the container's cgroup. */
  v1: { name: string; dir: string }[];
  /** The cgroup2 hierarchy: name '' (pure v2, the mount itself) or the hybrid one's ("unified"). */
  v2?: { name: string; dir: string };
  links: { name: string; target: string }[];
}

/** What the steps need of the config's mount and of mounts.ts' vocabulary (which owns it). */
export interface MountBits {
  /** The mount's own options as MOUNT_ATTR_* (ro, nosuid…). */
  attrs: number;
  /** Its propagation (MS_* | MS_REC), 0 = leave. */
  propagation: number;
  /** MOUNT_ATTR_ read-only, and read-only | nosuid | nodev | noexec. */
  rdonly: number;
  lockdown: number;
}

export function cgroupMountSteps(dest: string, view: CgroupView | undefined, cgroupns: boolean, b: MountBits): MountStep[] {
  // Below /sys/fs/cgroup: kernel file systems, never reached through a symlink.
  const bind = (source: string, to: string, recursive = false): BindStep => ({
    op: 'bind',
    source,
    dest: to,
    attrs: b.lockdown,
    propagation: 0,
    recursive,
    kind: 'dir',
    nofollow: true,
    // A container with CAP_SYS_ADMIN in its user namespace could remount a
    // bind made in its own mount namespace writable (and then raise its limits
    // or, without a pid namespace, move host processes in): locked instead
    // (one directory each; the whole-tree fallback below keeps the plain bind).
    lock: !recursive,
  });
  const fresh2 = (to: string, dir: string): FsStep => ({
    op: 'fs',
    fstype: 'cgroup2',
    source: 'cgroup2',
    dest: to,
    attrs: b.attrs | b.lockdown,
    propagation: 0,
    options: [],
    nofollow: true,
    // Refused (EPERM) when the cgroup namespace is not ours after all: the same view by a bind.
    fallback: bind(dir, to),
  });
  if (!view) {
    // No cgroup file system found: the host's hierarchy as it is, read-only.
    return [{ ...bind('/sys/fs/cgroup', dest, true), propagation: b.propagation }];
  }
  if (view.mode === 'v2' && view.v2) {
    const step = cgroupns ? fresh2(dest, view.v2.dir) : bind(view.v2.dir, dest);
    return [{ ...step, propagation: b.propagation }];
  }
  const steps: MountStep[] = [
    {
      op: 'fs',
      fstype: 'tmpfs',
      source: 'cgroup',
      dest,
      // Writable while the binds are made below it, read-only at the end.
      attrs: (b.attrs & ~b.rdonly) | (b.lockdown & ~b.rdonly),
      propagation: b.propagation,
      options: ['mode=755'],
      nofollow: true,
    },
  ];
  for (const h of view.v1) steps.push(bind(h.dir, `${dest}/${h.name}`));
  for (const l of view.links)
    if (view.v1.some((h) => h.name === l.target)) steps.push({ op: 'symlink', target: l.target, path: `${dest}/${l.name}` });
  if (view.v2) {
    const to = `${dest}/${view.v2.name}`;
    steps.push(cgroupns ? fresh2(to, view.v2.dir) : bind(view.v2.dir, to));
  }
  steps.push({ op: 'rdonly', path: dest });
  return steps;
}
