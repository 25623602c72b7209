// The plan: everything TypeScript decided about one container (`create`) or
// one more process in it (`exec`), as plain data. The planners in container/
// build it; protocol.ts turns it into the records the C runner executes, in
// order (src/README.md, "Runner protocol"). Nothing here decides anything.
import type { NamespaceType } from '../spec/types';

/**
 * The namespaces the runner knows, in the order an exec joins them: user
 * first (it gives the capabilities to join the others), mount last (it moves
 * the process to the container's root). `proc` is the file in /proc/PID/ns.
 */
export const NAMESPACES: readonly { type: NamespaceType; clone: number; proc: string }[] = [
  { type: 'user', clone: 0x10000000, proc: 'user' },
  { type: 'ipc', clone: 0x08000000, proc: 'ipc' },
  { type: 'uts', clone: 0x04000000, proc: 'uts' },
  { type: 'network', clone: 0x40000000, proc: 'net' },
  { type: 'cgroup', clone: 0x02000000, proc: 'cgroup' },
  { type: 'pid', clone: 0x20000000, proc: 'pid' },
  { type: 'time', clone: 0x00000080, proc: 'time' },
  { type: 'mount', clone: 0x00020000, proc: 'mnt' },
];

/** The clone(2) flag of each namespace type. */
export const CLONE: Readonly<Record<string, number>> = Object.fromEntries(NAMESPACES.map((n) => [n.type, n.clone]));

/** One line of a /proc/PID/uid_map: `inside outside count`. */
export interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

/** The text written to /proc/PID/uid_map or gid_map. */
export function mapText(map: IdRange[]): string {
  return map.map((r) => `${r.inside} ${r.outside} ${r.count}\n`).join('');
}

export interface IdPlan {
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** false: "deny" is written to /proc/PID/setgroups and setgroups(2) is never called. */
  setgroups: boolean;
  uid: number;
  gid: number;
  /** Supplementary groups to set, or null when they cannot be set (single id). */
  groups: number[] | null;
  /**
   * The container ids the runner takes for the set-up (mounts, files) when the
   * caller's own ids have no mapping (podman --uidmap 0:1:…, --userns=auto):
   * an unmapped id cannot create files (EOVERFLOW). Undefined: keep the caller's.
   * hostUid/hostGid are the same ids as the caller sees them (the exec fifo is
   * handed to them).
   */
  setupIds?: { uid: number; gid: number; hostUid: number; hostGid: number };
}

export interface Rlimit {
  type: string;
  resource: number;
  /** Decimal, or "unlimited". */
  soft: string;
  hard: string;
}

export interface CapSets {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export interface ProcessPlan {
  args: string[];
  env: string[];
  /** The PATH used to find args[0] inside the container when it has no '/'. */
  searchPath: string;
  cwd: string;
  umask: number;
  rlimits: Rlimit[];
  noNewPrivileges: boolean;
  caps: CapSets;
  oomScoreAdj?: number;
  /**
   * The environment has no HOME (or an empty one; ctr and Docker send none):
   * the runner adds HOME from the container's /etc/passwd entry of the
   * process uid, "/" without one, as runc and crun do.
   */
  homeFromPasswd: boolean;
  /** process.scheduler: sched_setattr(2) of the container process, made by the runner R with the caller's privilege. */
  scheduler?: SchedulerPlan;
  /** process.ioPriority: the ioprio_set(2) value (class << 13 | level), set by R like the scheduler. */
  ioPriority?: { value: number; text: string };
}

/** struct sched_attr's fields (u64 ones as decimal text); `text` says what was asked, for the runner's note. */
export interface SchedulerPlan {
  policy: number;
  flags: number;
  nice: number;
  priority: number;
  runtime: string;
  deadline: string;
  period: string;
  text: string;
}

/** linux.memoryPolicy: set_mempolicy(2) mode (flags ORed in) and the nodes of its mask. */
export interface MemoryPolicyPlan {
  mode: number;
  nodes: number[];
  text: string;
}

/** A bind: a clone of a host path (recursive for rbind) attached in the rootfs. */
export interface BindStep {
  op: 'bind';
  source: string;
  dest: string;
  /** MOUNT_ATTR_* set on the clone before it is attached (nodev unless devices are allowed; ro, nosuid…). */
  attrs: number;
  /** MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE, | MS_REC for the r- forms; 0 = leave. */
  propagation: number;
  recursive: boolean;
  /** What to create when the destination is missing; auto = a file when the source is not a directory. */
  kind: 'dir' | 'file' | 'auto';
  /** A kernel file system: the destination must be reached without any symbolic link. */
  nofollow: boolean;
  /** The source must be this device node (checked by the runner on the clone). */
  device?: { type: 'c' | 'b'; major: number; minor: number };
  /** A read-only view of a host directory the container must not remount writable (the cgroup view): locked by the runner; see protocol.ts. */
  lock?: boolean;
}

/** A fresh file system (fsopen/fsmount), attached in the rootfs. */
export interface FsStep {
  op: 'fs';
  fstype: string;
  source: string;
  dest: string;
  /** MOUNT_ATTR_* of the new mount. */
  attrs: number;
  propagation: number;
  /** fsconfig parameters in order: `key=value` strings and `key` flags (mount(8) data and superblock flags). */
  options: string[];
  nofollow: boolean;
  /** Done instead when the kernel refuses this mount with EPERM (see planMount). */
  fallback?: BindStep;
}

export type MountStep =
  | BindStep
  | FsStep
  | { op: 'symlink'; target: string; path: string }
  /**
   * maskedPaths/readonlyPaths. With `rel`, the path lies on the kernel file
   * system mounted by the step right before: the runner applies it relative
   * to that mount, with no symbolic link allowed. Without, it is resolved in
   * the rootfs after every mount.
   */
  | { op: 'mask'; path: string; rel?: string }
  | { op: 'rdonly'; path: string; rel?: string }
  | { op: 'mkdir'; path: string };

/** One line of the supervisor's dispatch table: `AUDIT_ARCH:NR:OP:WIDTH` (record `fakeids`). */
export interface IdRule {
  arch: number;
  nr: number;
  op: string;
  width: 16 | 32;
}

export const idRuleText = (r: IdRule): string => `${r.arch}:${r.nr}:${r.op}:${r.width}`;

export interface FakerootPlan {
  /** struct sock_filter[], little-endian. */
  program: Buffer;
  /** The supervisor's dispatch table for the calls the program sends it. */
  idRules: IdRule[];
}

/** linux.seccomp as libseccomp takes it (container/profile.ts decides it). */
/** One comparison: (arg[index] OP a), or (arg[index] & a) == b for MASKED_EQ. */
export interface ProfileCond {
  index: number;
  /** enum scmp_compare. */
  op: number;
  a: bigint;
  b: bigint;
}

export interface ProfileRule {
  /** libseccomp action value (with errno data). */
  action: number;
  name: string;
  /** ANDed; empty = always. */
  conds: ProfileCond[];
}

export interface ProfilePlan {
  defaultAction: number;
  /** libseccomp arch names added to the native one. */
  arches: string[];
  /** Runner attribute names (SECCOMP_FLAGS values). */
  flags: string[];
  rules: ProfileRule[];
}

/** linux.sysctl: what the runner writes, and from which process (container/sysctl.ts decides it). */
export interface SysctlWrite {
  /** Dotted name, for messages. */
  name: string;
  /** Below /proc/sys, slash-separated. */
  path: string;
  value: string;
}

export interface SysctlPlan {
  /** Written by C2 in the container's own namespaces. */
  own: SysctlWrite[];
  /** Written by C1 in joined namespaces, with the caller's privilege. */
  joined: SysctlWrite[];
  hostname?: string;
  domainname?: string;
}

/** process.terminal (container/terminal.ts): a pty from the container's devpts as the process's stdio and controlling terminal. */
export interface TerminalPlan {
  /** process.consoleSize; 0 = leave the kernel's default. */
  rows: number;
  cols: number;
  /** Bind the slave onto /dev/console (the container's first process). */
  console: boolean;
  /** Absolute path of the caller's console socket, which gets the master; undefined: the runner relays it (foreground). */
  socket?: string;
}

/** A namespace joined by path (create: the config's; exec: the container process's). */
export interface Join {
  type: NamespaceType;
  flag: number;
  path: string;
}

/** A hook the runner's C2 runs itself (src/runner/hooks.c); container/hooks.ts decides which. */
export interface HookStep {
  kind: 'createContainer' | 'startContainer';
  /** `hooks.KIND[I]`, for its messages. */
  label: string;
  path: string;
  /** argv; empty: [path]. */
  args: string[];
  /** Exactly the hook's env list. */
  env: string[];
  /** Seconds; 0: none. */
  timeout: number;
}

/** The hook pause and the hooks C2 runs (absent: no hook during create or start). */
export interface HookPlan {
  /** The createContainer hooks' cwd (the bundle, resolved before pivot_root). */
  cwd: string;
  steps: HookStep[];
}

export interface Plan {
  stateDir: string;
  /** Runner stays as subreaper and exits with the container's status (`run`). */
  wait: boolean;
  /** fds 3..3+preserveFds-1 reach the container. */
  preserveFds: number;
  /** cgroup.procs files the runner writes itself into before anything else (src/runner/cgroup.c). */
  cgroupProcs?: string[];
  /** Joined by path, before our user namespace exists. */
  joins: Join[];
  /** Created together with (and owned by) the new user namespace. */
  created: NamespaceType[];
  ids: IdPlan;
  rootfs: string;
  /** MOUNT_ATTR_* added to the whole rootfs tree (nodev unless the config allows every device). */
  rootAttrs: number;
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
  /** linux.seccomp, built at create and loaded last before execve; see container/profile.ts. */
  profile?: ProfilePlan;
  /** linux.sysctl writes (kernel.hostname/domainname are folded into hostname/domainname); see container/sysctl.ts. */
  sysctls: SysctlPlan;
  /** linux.timeOffsets: written to /proc/self/timens_offsets by C1 (new time namespace) before it forks C2. */
  timeOffsets?: string;
  /** linux.memoryPolicy: set by C2 on itself during set-up (inherited by everything it runs). */
  memoryPolicy?: MemoryPolicyPlan;
  terminal?: TerminalPlan;
  /** Hooks: C2 stops before pivot_root for create's own (prestart, createRuntime) and runs these. */
  hooks?: HookPlan;
}

export interface ExecPlan {
  kind: 'exec';
  /** The container process and its start time: the runner refuses a pid that names another process by the time it joins. */
  target: { pid: number; startTime: string };
  wait: boolean;
  preserveFds: number;
  /** The container's cgroup.procs files: the process joins its cgroups first. */
  cgroupProcs?: string[];
  joins: Join[];
  ids: { uid: number; gid: number; groups: number[] | null };
  process: ProcessPlan;
  /** The same fake-root filter as the container's own process (single-id containers). */
  fakeroot?: FakerootPlan;
  /** The container's linux.seccomp (runc applies it to exec'd processes too). */
  profile?: ProfilePlan;
  /** The container's session keyring, joined by name (undefined: the caller's is kept, as by the container). */
  keyring?: string;
  /** process.execCPUAffinity.initial: C1's CPUs before it joins the cgroups. */
  cpusInitial?: number[];
  /** process.execCPUAffinity.final: C2's CPUs after the cgroup join, before execve. */
  cpusFinal?: number[];
  /** The container's linux.memoryPolicy, set as for its own process. */
  memoryPolicy?: MemoryPolicyPlan;
  terminal?: TerminalPlan;
}
