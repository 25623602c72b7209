// buildPlan: every decision about a container, made here in plain code, so the
// native runner only executes (see src/runner/protocol.ts for the wire format).
// The config has met the policy table (spec/policy.ts) before: what it refuses
// never reaches here, so the planners assume it.
import type { NamespaceType, OciConfig } from '../spec/types';
import { ALWAYS_NEW_NAMESPACES, PROC_DIRECTIVE } from '../spec/policy';
import { CLONE, type Join, type Plan } from '../runner/plan';
import { planIds, type CallerIds } from './idmap';
import { MS } from '../spec/mount-options';
import { ATTR, placePathSteps, planMounts, propagationFlags, sysfsAttrs } from './mounts';
import { configDevicePolicy } from './devices';
import { planProcess } from './process';
import { planFakeroot } from './fakeroot';
import { planProfile } from './profile';
import { planSysctls } from './sysctl';
import { planMemoryPolicy, timeOffsetsText } from './sched';
import { planTerminal } from './terminal';
import type { CgroupView } from '../cgroups/view';
import { planHooks } from './hooks';

export interface PlanContext {
  bundle: string;
  /** Absolute. */
  rootfs: string;
  /** The container's state directory; the runner makes stateDir/exec.fifo. */
  stateDir: string;
  caller: CallerIds;
  /** `run`: the runner stays as subreaper and exits with the container's status. */
  wait: boolean;
  /** --preserve-fds: fds 3..3+N-1 reach the container. */
  preserveFds: number;
  /** --no-pivot. */
  noPivot?: boolean;
  /** Session keyring to join (the container id); undefined keeps the caller's (--no-new-keyring). */
  keyring?: string;
  /** The container's cgroups, for its cgroup mount (see cgroups/view.ts). */
  cgroup?: CgroupView;
  /** cgroup.procs of each of the container's cgroups: the runner joins them first. */
  cgroupProcs?: string[];
  /** --console-socket (checked by checkTerminal): gets the pty's master. */
  consoleSocket?: string;
}

/** Which namespaces to join and which to create; user and mount are always new (policy refuses joining them). */
export function planNamespaces(config: OciConfig): { joins: Join[]; created: NamespaceType[] } {
  const joins: Join[] = [];
  const created: NamespaceType[] = [...ALWAYS_NEW_NAMESPACES];
  for (const ns of config.linux?.namespaces ?? []) {
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
  const devicePolicy = configDevicePolicy(config);
  const mountCtx = {
    bundle: ctx.bundle,
    created: new Set<string>(created),
    joined: new Set<string>(joins.map((j) => j.type)),
    gidMap: ids.gidMap,
    devicePolicy,
    procFallback: config.annotations?.[PROC_DIRECTIVE] !== 'fresh',
    cgroup: ctx.cgroup,
  };
  const planned = planMounts(config, mountCtx);
  const premadeSysfs = sysfsAttrs(planned, mountCtx);
  const { steps: mounts, rootLevel } = placePathSteps(planned, config);
  // cwd is made before the root turns read-only; the runner chdirs after pivot_root.
  mounts.push({ op: 'mkdir', path: proc.cwd }, ...rootLevel);

  const sysctls = planSysctls(config, joins);
  // kernel.hostname/domainname sysctls win over the fields, as in runc, which
  // wrote them after sethostname. Without a uts namespace of our own the kernel
  // refuses sethostname (and it would rename the host); policy notes that the
  // name is not applied.
  const ownUts = created.includes('uts');
  const hostname = sysctls.hostname ?? config.hostname;
  const domainname = sysctls.domainname ?? config.domainname;
  const prop = config.linux?.rootfsPropagation;
  return {
    stateDir: ctx.stateDir,
    wait: ctx.wait,
    preserveFds: ctx.preserveFds,
    cgroupProcs: ctx.cgroupProcs,
    joins,
    created,
    ids,
    rootfs: ctx.rootfs,
    rootAttrs: devicePolicy.allowsAll ? 0 : ATTR.NODEV,
    mounts,
    rootReadonly: config.root?.readonly === true,
    rootPropagation: prop ? propagationFlags(prop) | MS.REC : 0,
    noPivot: ctx.noPivot,
    keyring: ctx.keyring,
    hostname: (ownUts && hostname) || undefined,
    domainname: (ownUts && domainname) || undefined,
    personality: config.linux?.personality?.domain === 'LINUX32' ? PER_LINUX32 : undefined,
    premadeSysfs,
    process: proc,
    fakeroot: planFakeroot(config, ids),
    profile: planProfile(config.linux?.seccomp),
    sysctls,
    // Policy refuses offsets without a time namespace of the container's own.
    timeOffsets: created.includes('time') ? timeOffsetsText(config.linux?.timeOffsets) : undefined,
    memoryPolicy: planMemoryPolicy(config.linux?.memoryPolicy),
    terminal: planTerminal(config.process, ctx.consoleSocket, true),
    hooks: planHooks(config.hooks, ctx.bundle),
  };
}
