// buildPlan: every decision about a container, made here in plain code, so the
// native runner only executes (see src/runner/protocol.ts for the wire format).
import * as log from '../log';
import { UserError } from '../errors';
import type { NamespaceType, OciConfig } from '../spec/types';
import { planIds, readCallerIds, type CallerIds, type IdPlan } from './idmap';
import { MS, planMounts, planPathSteps, propagationFlags, sysfsAttrs, type MountStep } from './mounts';
import { planProcess, type ProcessPlan } from './process';
import { planFakeroot, type FakerootPlan } from './fakeroot';

export { readCallerIds, type CallerIds };

export interface PlanContext {
  bundle: string;
  /** Absolute. */
  rootfs: string;
  /** The container's state directory; the runner makes stateDir/exec.fifo. */
  stateDir: string;
  caller: CallerIds;
}

export const CLONE: Record<string, number> = {
  mount: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  cgroup: 0x02000000,
};

export interface Plan {
  stateDir: string;
  /** Runner stays as subreaper and exits with the container's status (`run`). */
  wait: boolean;
  /** fds 3..3+preserveFds-1 reach the container. */
  preserveFds: number;
  /** Joined by path, before our user namespace exists. */
  joins: { type: NamespaceType; flag: number; path: string }[];
  /** Created together with (and owned by) the new user namespace. */
  created: NamespaceType[];
  ids: IdPlan;
  rootfs: string;
  /** Mounts, devices, cwd creation, masked and read-only paths, in execution order. */
  mounts: MountStep[];
  rootReadonly: boolean;
  /** Propagation flags for / after pivot_root; 0 = leave private. */
  rootPropagation: number;
  /** --no-pivot: move the rootfs onto / and chroot instead of pivot_root (for roots on ramfs). */
  noPivot?: boolean;
  /** Session keyring to join (the container id); undefined keeps the caller's (--no-new-keyring). */
  keyring?: string;
  hostname?: string;
  domainname?: string;
  /** personality(2) persona set right before execve (linux.personality LINUX32); undefined = leave. */
  personality?: number;
  /** MOUNT_ATTR_* of a sysfs the runner makes before the unshare (joined network namespace); see sysfsAttrs. */
  premadeSysfs?: number;
  process: ProcessPlan;
  /** The fake-root seccomp filter and its supervisor's table, installed right before execve; see fakeroot.ts. */
  fakeroot?: FakerootPlan;
}

/** Which namespaces to join and which to create. user and mount are always new. */
export function planNamespaces(config: OciConfig): { joins: Plan['joins']; created: NamespaceType[] } {
  const joins: Plan['joins'] = [];
  const created: NamespaceType[] = ['user', 'mount'];
  for (const ns of config.linux?.namespaces ?? []) {
    const field = `linux.namespaces ${ns.type}`;
    if (ns.type === 'user' || ns.type === 'mount') {
      // We must own both to do anything unprivileged: joining is not possible.
      if (ns.path) throw new UserError(field, 'joining by path is not supported (ch-run-oci always creates it)');
      continue;
    }
    if (!(ns.type in CLONE)) throw new UserError(field, 'not supported');
    if (ns.path) joins.push({ type: ns.type, flag: CLONE[ns.type], path: ns.path });
    else if (!created.includes(ns.type)) created.push(ns.type);
  }
  return { joins, created };
}

/** personality(2): 32-bit uname and address space, as `setarch linux32`. */
export const PER_LINUX32 = 0x0008;

export function buildPlan(config: OciConfig, ctx: PlanContext): Plan {
  const { joins, created } = planNamespaces(config);
  const ids = planIds(config, ctx.caller);
  const proc = planProcess(config.process);
  const mountCtx = { bundle: ctx.bundle, created: new Set<string>(created), joined: new Set<string>(joins.map((j) => j.type)), gidMap: ids.gidMap };
  const mounts = planMounts(config, mountCtx);
  const premadeSysfs = sysfsAttrs(mounts, mountCtx);
  // cwd is made before the root turns read-only; the runner chdirs after pivot_root.
  mounts.push({ op: 'mkdir', path: proc.cwd });
  mounts.push(...planPathSteps(config));

  let hostname = config.hostname;
  if (hostname !== undefined && !created.includes('uts')) {
    // Without a uts namespace of our own the kernel refuses sethostname (and it
    // would rename the host). Clients set hostname even with --uts=host, so
    // this is a note, not an error.
    log.debug('hostname ignored: no new uts namespace');
    hostname = undefined;
  }
  let domainname = config.domainname;
  if (domainname !== undefined && !created.includes('uts')) {
    log.debug('domainname ignored: no new uts namespace');
    domainname = undefined;
  }
  const prop = config.linux?.rootfsPropagation;
  return {
    stateDir: ctx.stateDir,
    wait: false,
    preserveFds: 0,
    joins,
    created,
    ids,
    rootfs: ctx.rootfs,
    mounts,
    rootReadonly: config.root?.readonly === true,
    rootPropagation: prop ? propagationFlags(prop) | MS.REC : 0,
    hostname: hostname || undefined,
    domainname: domainname || undefined,
    personality: config.linux?.personality?.domain === 'LINUX32' ? PER_LINUX32 : undefined,
    premadeSysfs,
    process: proc,
    fakeroot: planFakeroot(config, ids),
  };
}
