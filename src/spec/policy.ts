// The fate of every OCI config field in ch-run-oci, in one table: `supported`
// (applied as the spec says), `ignored` (accepted, a --debug note says so) or
// `error` (create refuses the config and names the field). runtime.md requires
// an error when a property cannot be applied as specified; fields are ignored
// only where applying them would not change what the program can observe in a
// way the caller relies on, or where every client sends them (cgroup limits,
// LSM labels) and refusing would make the runtime unusable. The man
// page and `features` are generated from this table.
import { UserError } from '../errors';
import * as log from '../log';
import { HOOK_NAMES, type NamespaceType, type OciConfig } from './types';
import { NAMESPACES } from '../runner/plan';
import { SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_NOOP_FLAGS, badArgIndexes, notifyUses, unknownArches } from './seccomp';
import { sysctlRefusal } from './sysctl';

export type Fate = 'supported' | 'ignored' | 'error';

/** What the command line adds to the config (nothing today: --console-socket is checked by container/terminal.ts). */
export type PolicyOptions = Record<string, never>;

export interface PolicyEntry {
  /** JSON-pointer-like name of the field; `*` stands for any key or index, `--x` for a command-line flag. */
  readonly path: string;
  readonly fate: Fate;
  /** Why, in a few words (the man page text; for errors also the message, for ignored fields the debug note). */
  readonly note: string;
  /** ignored/error rows: where this config uses the feature (JSON pointers, or a flag name). */
  readonly find?: (config: OciConfig, opts: PolicyOptions) => string[];
}

/** Namespaces ch-run-oci creates (all from inside a user namespace, so no privilege is needed): every one the runner knows. */
export const CREATABLE_NAMESPACES: readonly NamespaceType[] = NAMESPACES.map((n) => n.type);
/** Always created, for every container: the base that makes the rest possible without privilege. */
export const ALWAYS_NEW_NAMESPACES: readonly NamespaceType[] = ['user', 'mount'];
/** Namespaces ch-run-oci joins when an entry has a path (setns before the user program starts). */
export const JOINABLE_NAMESPACES: readonly NamespaceType[] = CREATABLE_NAMESPACES.filter((t) => !ALWAYS_NEW_NAMESPACES.includes(t));

/** Annotation prefix of directives to ch-run-oci itself; every key under it must be known. */
export const DIRECTIVE_PREFIX = 'ch-run-oci.';
/** Known directives and the values each takes. */
export const DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'ch-run-oci.fakeroot': ['auto', 'always', 'never'],
  'ch-run-oci.proc': ['auto', 'fresh'],
};
export const PROC_DIRECTIVE = 'ch-run-oci.proc';
/** Annotation prefixes that ask another runtime for behaviour ch-run-oci cannot give. */
export const FOREIGN_DIRECTIVE_PREFIXES: readonly string[] = ['run.oci.'];
/** crun's directives that ch-run-oci honours too (podman sends them). */
export const KEEP_GROUPS = 'run.oci.keep_original_groups';
export const FOREIGN_DIRECTIVES_HONOURED: readonly string[] = [KEEP_GROUPS];

// --- finders: where a config uses something ---------------------------------

type Finder = (config: OciConfig, opts: PolicyOptions) => string[];

function at(config: unknown, pointer: string): unknown {
  let cur = config;
  for (const key of pointer.slice(1).split('/')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The field is set (an empty list/object counts as not asking for anything). */
function used(pointer: string): Finder {
  return (config) => {
    const v = at(config, pointer);
    if (v === undefined || v === null) return [];
    if (Array.isArray(v) && v.length === 0) return [];
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return [];
    if (v === '' || v === false) return [];
    return [pointer];
  };
}

function escapeKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function namespaceEntries(config: OciConfig, match: (type: string, path: string | undefined) => boolean): string[] {
  const out: string[] = [];
  (config.linux?.namespaces ?? []).forEach((ns, i) => {
    if (match(ns.type, ns.path)) out.push(`/linux/namespaces/${i}${ns.path !== undefined ? '/path' : ''}`);
  });
  return out;
}

/** A new namespace of this type is made (listed without a path). */
function createsNamespace(config: OciConfig, type: NamespaceType): boolean {
  return (config.linux?.namespaces ?? []).some((ns) => ns.type === type && (ns.path ?? '') === '');
}

function annotationKeys(config: OciConfig, match: (key: string, value: string) => boolean): string[] {
  return Object.entries(config.annotations ?? {})
    .filter(([k, v]) => match(k, v))
    .map(([k]) => `/annotations/${escapeKey(k)}`);
}

function mountMappings(field: 'uidMappings' | 'gidMappings'): Finder {
  return (config) => (config.mounts ?? []).flatMap((m, i) => ((m[field]?.length ?? 0) > 0 ? [`/mounts/${i}/${field}`] : []));
}

const NO_LSM = 'ch-run-oci sets no LSM labels or profiles (loading policy needs privilege); the host policy applies';
const NO_KMEM = 'kernel memory limits are gone from current kernels (runc ignores them too)';

// --- the table ----------------------------------------------------------------

export const POLICY: readonly PolicyEntry[] = [
  { path: '/ociVersion', fate: 'supported', note: 'any 1.x version, pre-releases included (1.0.0 <= v < 2.0.0)' },
  { path: '/root/path', fate: 'supported', note: 'the root filesystem, absolute or relative to the bundle' },
  { path: '/root/readonly', fate: 'supported', note: 'the root is remounted read-only once the mounts are made' },
  {
    path: '/mounts',
    fate: 'supported',
    note: 'bind/rbind, tmpfs, proc, sysfs, mqueue, devpts, cgroup/cgroup2, with the usual mount(8) flags and propagation options',
  },
  {
    path: '/mounts/*/uidMappings',
    fate: 'error',
    note: 'idmapped mounts are not supported (they need privilege over the source filesystem)',
    find: mountMappings('uidMappings'),
  },
  {
    path: '/mounts/*/gidMappings',
    fate: 'error',
    note: 'idmapped mounts are not supported (they need privilege over the source filesystem)',
    find: mountMappings('gidMappings'),
  },
  { path: '/process/args', fate: 'supported', note: 'required and non-empty; executed by start' },
  { path: '/process/env', fate: 'supported', note: 'the whole environment of the process' },
  { path: '/process/cwd', fate: 'supported', note: 'working directory inside the container' },
  { path: '/process/user/uid', fate: 'supported', note: 'container uid; must be mapped in the user namespace' },
  { path: '/process/user/gid', fate: 'supported', note: 'container gid; must be mapped in the user namespace' },
  { path: '/process/user/additionalGids', fate: 'supported', note: 'supplementary groups; must be mapped' },
  { path: '/process/user/umask', fate: 'supported', note: 'umask of the process' },
  { path: '/process/user/username', fate: 'ignored', note: 'Windows only', find: used('/process/user/username') },
  {
    path: '/process/terminal',
    fate: 'supported',
    note: "a pty of the container's devpts as stdio and controlling terminal; its master goes to --console-socket, or is relayed by ch-run-oci in the foreground",
  },
  {
    path: '--console-socket',
    fate: 'supported',
    note: "receives the pty's master (SCM_RIGHTS, as runc sends it); only with a terminal and a detached container or process",
  },
  { path: '/process/consoleSize', fate: 'supported', note: 'the initial window size of the pty (without a terminal it means nothing)' },
  { path: '/process/commandLine', fate: 'ignored', note: 'Windows only', find: used('/process/commandLine') },
  { path: '/process/capabilities', fate: 'supported', note: 'capability sets, which count only inside the user namespace' },
  { path: '/process/rlimits', fate: 'supported', note: "set with setrlimit; a hard limit above the caller's fails" },
  { path: '/process/noNewPrivileges', fate: 'supported', note: 'PR_SET_NO_NEW_PRIVS before exec' },
  { path: '/process/oomScoreAdj', fate: 'supported', note: 'written to /proc/self/oom_score_adj; lowering it needs privilege and fails' },
  { path: '/process/apparmorProfile', fate: 'ignored', note: NO_LSM, find: used('/process/apparmorProfile') },
  { path: '/process/selinuxLabel', fate: 'ignored', note: NO_LSM, find: used('/process/selinuxLabel') },
  {
    path: '/process/scheduler',
    fate: 'supported',
    note: "sched_setattr(2) of the container process, made by the runner with the caller's privilege before the process runs anything (inherited by its children); SCHED_ISO is not a Linux policy; as an unprivileged user the kernel allows a higher nice, SCHED_BATCH and SCHED_IDLE, and refuses a lower nice, SCHED_FIFO, SCHED_RR and SCHED_DEADLINE (an error naming the field); also for exec",
  },
  {
    path: '/process/ioPriority',
    fate: 'supported',
    note: 'ioprio_set(2) of the container process, made like the scheduler; IOPRIO_CLASS_RT needs CAP_SYS_NICE on the host (an error otherwise); also for exec',
  },
  {
    path: '/process/execCPUAffinity',
    fate: 'supported',
    note: "for processes started by exec (exec's args form takes the container's): initial before the process joins the container's cgroups, final after, right before it runs",
  },
  {
    path: '/process/execCPUAffinity (the container process)',
    fate: 'ignored',
    note: "the runtime-spec makes it not applicable to the container's init process (kept for exec)",
    find: (c) => (c.process?.execCPUAffinity?.initial || c.process?.execCPUAffinity?.final ? ['/process/execCPUAffinity'] : []),
  },
  { path: '/hostname', fate: 'supported', note: "set in the container's new uts namespace" },
  {
    path: '/hostname (without a new uts namespace)',
    fate: 'ignored',
    note: "only a uts namespace of the container's own can be renamed; clients send a hostname even with --uts=host",
    find: (c) => ((c.hostname ?? '') !== '' && !createsNamespace(c, 'uts') ? ['/hostname'] : []),
  },
  { path: '/domainname', fate: 'supported', note: "set in the container's new uts namespace" },
  {
    path: '/domainname (without a new uts namespace)',
    fate: 'ignored',
    note: "only a uts namespace of the container's own can be renamed",
    find: (c) => ((c.domainname ?? '') !== '' && !createsNamespace(c, 'uts') ? ['/domainname'] : []),
  },
  {
    path: '/hooks/*',
    fate: 'supported',
    note: 'every kind, with the state on stdin, args, exactly its env, timeout (kills its process group): prestart and createRuntime run by create as the caller in its namespaces while the container waits before pivot_root, createContainer in the container before pivot_root (cwd the bundle), startContainer in the container right before the program, poststart by start, poststop by delete; a failed poststart or poststop hook is a warning',
  },
  {
    path: '/hooks/* (other kinds)',
    fate: 'ignored',
    note: 'not a hook kind of the runtime-spec (unknown properties are ignored)',
    find: (c) =>
      Object.keys(c.hooks ?? {})
        .filter((k) => !(HOOK_NAMES as readonly string[]).includes(k))
        .map((k) => `/hooks/${escapeKey(k)}`),
  },
  {
    path: '/hooks/*/*/path (relative)',
    fate: 'error',
    note: 'must be absolute',
    find: (c) =>
      Object.entries(c.hooks ?? {})
        .filter(([name]) => (HOOK_NAMES as readonly string[]).includes(name))
        .flatMap(([name, list]) =>
          (Array.isArray(list) ? list : []).flatMap((h, i) =>
            typeof h?.path === 'string' && !h.path.startsWith('/') ? [`/hooks/${escapeKey(name)}/${i}/path`] : [],
          ),
        ),
  },
  { path: '/annotations', fate: 'supported', note: 'kept in the state; keys without a directive prefix are informational' },
  {
    path: '/annotations/ch-run-oci.fakeroot',
    fate: 'supported',
    note: 'directive: fake-root seccomp filter (chown, set*id, setgroups, device mknod succeed without effect); "auto" (default): only in a single-id user namespace, "always", "never"; see FAKE ROOT',
  },
  {
    path: '/annotations/ch-run-oci.fakeroot (other values)',
    fate: 'error',
    note: 'must be "auto", "always" or "never"',
    find: (c) => annotationKeys(c, (k, v) => k === 'ch-run-oci.fakeroot' && !DIRECTIVES[k].includes(v)),
  },
  {
    path: `/annotations/${PROC_DIRECTIVE}`,
    fate: 'supported',
    note: 'directive: where a fresh proc is refused (EPERM: the caller\'s own /proc has locked overmounts, e.g. the masks of an enclosing container, as in a build inside a CI container), "auto" (default) binds the caller\'s /proc instead, with a --debug note: the container then sees the caller\'s processes and, for those of its own uid, their /proc files; "fresh" refuses instead',
  },
  {
    path: `/annotations/${PROC_DIRECTIVE} (other values)`,
    fate: 'error',
    note: 'must be "auto" or "fresh"',
    find: (c) => annotationKeys(c, (k, v) => k === PROC_DIRECTIVE && !DIRECTIVES[k].includes(v)),
  },
  {
    path: '/annotations/ch-run-oci.*',
    fate: 'error',
    note: 'unknown ch-run-oci directive',
    find: (c) => annotationKeys(c, (k) => k.startsWith(DIRECTIVE_PREFIX) && !(k in DIRECTIVES)),
  },
  {
    path: `/annotations/${KEEP_GROUPS}`,
    fate: 'supported',
    note: 'crun\'s directive (podman --group-add keep-groups): "1" keeps the caller\'s supplementary groups (setgroups is not called; additionalGids are dropped)',
  },
  {
    path: '/annotations/run.oci.*',
    fate: 'error',
    note: 'crun directives are not supported by ch-run-oci',
    find: (c) =>
      annotationKeys(c, (k) => FOREIGN_DIRECTIVE_PREFIXES.some((p) => k.startsWith(p)) && !FOREIGN_DIRECTIVES_HONOURED.includes(k)),
  },
  { path: '/linux/namespaces', fate: 'supported', note: `created: ${CREATABLE_NAMESPACES.join(', ')}` },
  { path: '/linux/namespaces/*/path', fate: 'supported', note: `joined by path: ${JOINABLE_NAMESPACES.join(', ')}` },
  ...ALWAYS_NEW_NAMESPACES.map((type): PolicyEntry => ({
    path: `/linux/namespaces/*/path (${type})`,
    fate: 'error',
    note: `joining an existing ${type} namespace is not supported`,
    find: (c) => namespaceEntries(c, (t, p) => t === type && p !== undefined && p !== ''),
  })),
  { path: '/linux/uidMappings', fate: 'supported', note: "written to the new user namespace's uid_map" },
  { path: '/linux/gidMappings', fate: 'supported', note: "written to the new user namespace's gid_map" },
  {
    path: '/linux/timeOffsets',
    fate: 'supported',
    note: "monotonic and boottime offsets of the container's new time namespace, written before its first process enters it",
  },
  {
    path: '/linux/timeOffsets (without a new time namespace)',
    fate: 'error',
    note: 'offsets need a new time namespace (linux.namespaces type time without a path: a joined one has its offsets already)',
    find: (c) => (createsNamespace(c, 'time') ? [] : used('/linux/timeOffsets')(c, {})),
  },
  {
    path: '/linux/devices',
    fate: 'supported',
    note: "bound from a host node of the same type and number (the same path, else one found in /dev), since nodes cannot be made without privilege; fileMode, uid and gid stay the host node's; the standard set (null, zero, full, random, urandom, tty) is always there",
  },
  {
    path: '/linux/cgroupsPath',
    fate: 'supported',
    note: "runc's rules: absolute from each hierarchy's root; relative under the caller's cgroup (on pure v2 under its parent); absent: ch-run-oci-HASH-ID under the caller's cgroup; an error where it cannot be created (see CGROUPS)",
  },
  {
    path: '/linux/resources',
    fate: 'supported',
    note: "written to the container's cgroup (v1, v2, hybrid) before the program runs, with runc's v1 to v2 conversions; where no cgroup can be written (an unprivileged caller on v1, v2 without delegation) any limit is an error, as with rootless runc (see CGROUPS)",
  },
  {
    path: '/linux/resources/devices',
    fate: 'supported',
    note: 'root on v1: also written to the devices controller; everywhere enforced by construction (read as the device cgroup does: deny by default, the last matching rule decides): the rootfs and every directory bind are mounted nodev unless the rules allow every device, and only the device nodes the config names (linux.devices, binds of a single node) open',
  },
  {
    path: '/linux/resources/memory',
    fate: 'supported',
    note: 'limit, reservation, swap (memory+swap; v2: memory.swap.max = swap - limit), checkBeforeUpdate; swappiness and disableOOMKiller on v1 only (an error on v2, which has neither)',
  },
  { path: '/linux/resources/memory/kernel', fate: 'ignored', note: NO_KMEM, find: used('/linux/resources/memory/kernel') },
  { path: '/linux/resources/memory/kernelTCP', fate: 'ignored', note: NO_KMEM, find: used('/linux/resources/memory/kernelTCP') },
  {
    path: '/linux/resources/memory/useHierarchy',
    fate: 'ignored',
    note: 'memory accounting is always hierarchical on current kernels',
    find: used('/linux/resources/memory/useHierarchy'),
  },
  {
    path: '/linux/resources/cpu',
    fate: 'supported',
    note: "shares (v2: cpu.weight by runc's curve), quota, period, burst, idle, cpus, mems; realtimeRuntime and realtimePeriod on v1 only (an error on v2)",
  },
  { path: '/linux/resources/pids', fate: 'supported', note: 'pids.max; 0 is the strictest limit (1), negative is unlimited (as runc)' },
  {
    path: '/linux/resources/blockIO',
    fate: 'supported',
    note: "weight (v2: io.weight by runc's conversion, or io.bfq.weight), per-device weights (v2: BFQ only), bps/iops throttles; leafWeight on v1 only",
  },
  {
    path: '/linux/resources/hugepageLimits',
    fate: 'supported',
    note: 'hugetlb limits per page size (and their reservation limits where the kernel has them)',
  },
  {
    path: '/linux/resources/network',
    fate: 'supported',
    note: 'net_cls classid and net_prio priorities, v1 only (an error on v2 and where the controller is not mounted)',
  },
  { path: '/linux/resources/rdma', fate: 'supported', note: 'rdma.max per device' },
  {
    path: '/linux/resources/unified',
    fate: 'supported',
    note: "v2 only (an error on v1 and hybrid hosts): each key names a file of the container's cgroup; files that move, kill or freeze processes are refused",
  },
  {
    path: '--systemd-cgroup',
    fate: 'supported',
    note: 'cgroupsPath is slice:prefix:name; ch-run-oci has no D-Bus client, so it makes the cgroup systemd would give the unit (/SLICE/prefix-name.scope) directly; systemd unit properties are not set',
  },
  {
    path: '--cgroup-manager',
    fate: 'supported',
    note: 'cgroupfs (default), systemd (as --systemd-cgroup), disabled (no cgroup: any limit is an error)',
  },
  { path: '/linux/intelRdt', fate: 'error', note: 'Intel RDT is not supported', find: used('/linux/intelRdt') },
  {
    path: '/linux/sysctl',
    fate: 'supported',
    note: "net.* (the container's own or a joined network namespace), kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* (its ipc namespace), user.* (its user namespace), kernel.hostname and kernel.domainname (its own uts namespace); written before the mounts and the profile",
  },
  {
    path: '/linux/sysctl/* (host-wide or shared with the host)',
    fate: 'error',
    note: 'only sysctls of a namespace the container owns can be set',
    find: (c) =>
      Object.keys(c.linux?.sysctl ?? {})
        .filter((k) => sysctlRefusal(c, k) !== undefined)
        .map((k) => `/linux/sysctl/${escapeKey(k)}`),
  },
  {
    path: '/linux/seccomp',
    fate: 'supported',
    note: `loaded with libseccomp last before the program runs, also for exec; actions ${Object.keys(SECCOMP_ACTIONS).join(', ')}; every comparison operator; flags ${Object.keys(SECCOMP_FLAGS).join(', ')}; syscall names libseccomp does not know are skipped (a --debug note), as runc does; in a single-id container the fake-root filter stays under it (see FAKE ROOT)`,
  },
  {
    path: '/linux/seccomp (SCMP_ACT_NOTIFY)',
    fate: 'error',
    note: 'SCMP_ACT_NOTIFY is not supported (a task can have one notification listener, which fake root holds, and the profile is loaded at start, after the runner that would hand it over is gone)',
    find: (c) => notifyUses(c.linux?.seccomp),
  },
  {
    path: '/linux/seccomp/architectures/* (other)',
    fate: 'error',
    note: `architecture not supported by libseccomp 2.5 (supported: ${Object.keys(SECCOMP_ARCHES).join(', ')})`,
    find: (c) => unknownArches(c.linux?.seccomp),
  },
  {
    path: '/linux/seccomp/syscalls/*/args/*/index (6 or more)',
    fate: 'error',
    note: 'a syscall has 6 arguments (index 0-5)',
    find: (c) => badArgIndexes(c.linux?.seccomp),
  },
  {
    path: '/linux/seccomp/flags (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)',
    fate: 'ignored',
    note: 'only changes how a notification listener waits, and there is none (NOTIFY is refused)',
    find: (c) => (c.linux?.seccomp?.flags ?? []).flatMap((f, i) => (SECCOMP_NOOP_FLAGS.includes(f) ? [`/linux/seccomp/flags/${i}`] : [])),
  },
  {
    path: '/linux/seccomp/listenerPath',
    fate: 'ignored',
    note: 'no listener to reach without SCMP_ACT_NOTIFY',
    find: used('/linux/seccomp/listenerPath'),
  },
  {
    path: '/linux/seccomp/listenerMetadata',
    fate: 'ignored',
    note: 'no listener to reach without SCMP_ACT_NOTIFY',
    find: used('/linux/seccomp/listenerMetadata'),
  },
  { path: '/linux/rootfsPropagation', fate: 'supported', note: 'propagation of the root mount' },
  { path: '/linux/maskedPaths', fate: 'supported', note: 'hidden (empty read-only bind or tmpfs)' },
  { path: '/linux/readonlyPaths', fate: 'supported', note: 'remounted read-only' },
  { path: '/linux/mountLabel', fate: 'ignored', note: NO_LSM, find: used('/linux/mountLabel') },
  { path: '/linux/personality', fate: 'supported', note: 'domain LINUX (the default) or LINUX32 (set right before the program runs)' },
  {
    path: '/linux/personality/flags',
    fate: 'error',
    note: 'personality flags are not supported',
    find: (c) => ((c.linux?.personality?.flags ?? []).length > 0 ? ['/linux/personality/flags'] : []),
  },
  {
    path: '/linux/netDevices',
    fate: 'error',
    note: 'moving network devices into the container needs privilege on the host',
    find: used('/linux/netDevices'),
  },
  {
    path: '/linux/memoryPolicy',
    fate: 'supported',
    note: "set_mempolicy(2) of the container process during set-up (inherited by its children) and of exec's; needs no privilege; nodes outside the cpuset's are the kernel's error",
  },
  { path: '/windows', fate: 'ignored', note: 'another platform', find: used('/windows') },
  { path: '/solaris', fate: 'ignored', note: 'another platform', find: used('/solaris') },
  { path: '/vm', fate: 'ignored', note: 'virtual-machine runtimes only', find: used('/vm') },
  { path: '/zos', fate: 'ignored', note: 'another platform', find: used('/zos') },
];

/** The table for the man page and `features`, in table order. */
export function policyRows(): { path: string; fate: Fate; note: string }[] {
  return POLICY.map(({ path, fate, note }) => ({ path, fate, note }));
}

/**
 * Refuses the first field this runtime cannot apply (UserError naming it) and
 * notes, under --debug, every field it accepts without applying.
 */
export function applyPolicy(config: OciConfig, opts: PolicyOptions = {}): void {
  for (const row of POLICY) {
    if (row.fate !== 'error' || !row.find) continue;
    const hits = row.find(config, opts);
    if (hits.length > 0) throw new UserError(placeName(hits[0]), row.note);
  }
  for (const row of POLICY) {
    if (row.fate !== 'ignored' || !row.find) continue;
    for (const hit of row.find(config, opts)) log.debug(`ignoring ${hit}: ${row.note}`);
  }
}

function placeName(hit: string): string {
  return hit.startsWith('-') ? hit : `config.json: ${hit}`;
}
