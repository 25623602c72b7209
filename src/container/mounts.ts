// The mount plan: config mounts in order, each turned into exactly what the
// runner executes. Destinations stay paths inside the rootfs; the runner
// resolves them there (symlinks cannot lead out). Fallback rules for an
// unprivileged user namespace are explicit below, each with its reason.
import * as path from 'node:path';
import { UserError } from '../errors';
import * as log from '../log';
import type { Mount, OciConfig } from '../spec/types';
import { BIND_WORDS, FLAG_WORDS, MS, PROPAGATION } from '../spec/mount-options';
import { cgroupMountSteps, type CgroupView } from '../cgroups/view';
import type { BindStep, FsStep, IdRange, MountStep } from '../runner/plan';
import { covers } from './idmap';
import {
  devicePolicy,
  hostDevices,
  hostSourceFor,
  noteIgnoredDeviceFields,
  type DeviceLookup,
  type DevicePolicy,
  type HostNode,
} from './devices';

export const ATTR = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

export interface ParsedOptions {
  flags: number;
  propagation: number;
  bind: boolean;
  recursive: boolean;
  data: string[];
}

export function parseOptions(options: readonly string[] = []): ParsedOptions {
  const o: ParsedOptions = { flags: 0, propagation: 0, bind: false, recursive: false, data: [] };
  for (const word of options) {
    const f = FLAG_WORDS[word];
    if (f) {
      o.flags = (o.flags | f[0]) & ~f[1];
    } else if (word in PROPAGATION) {
      o.propagation = PROPAGATION[word];
    } else if ((BIND_WORDS as readonly string[]).includes(word)) {
      o.bind = true;
      o.recursive ||= word === 'rbind';
    } else if (word === 'remount' || word === 'tmpcopyup') {
      log.debug(`mount option ${word} ignored`);
    } else {
      o.data.push(word); // filesystem data: mode=755, size=65536k, newinstance…
    }
  }
  return o;
}

/** Mount flags as MOUNT_ATTR_* (mount_setattr adds them, never clears: flags the kernel locked stay). */
export function flagsToAttrs(flags: number): number {
  let a = 0;
  if (flags & MS.RDONLY) a |= ATTR.RDONLY;
  if (flags & MS.NOSUID) a |= ATTR.NOSUID;
  if (flags & MS.NODEV) a |= ATTR.NODEV;
  if (flags & MS.NOEXEC) a |= ATTR.NOEXEC;
  if (flags & MS.NODIRATIME) a |= ATTR.NODIRATIME;
  if (flags & MS.NOSYMFOLLOW) a |= ATTR.NOSYMFOLLOW;
  return a;
}

/** A fresh mount's MOUNT_ATTR_*: the flags above plus its atime mode (relatime is the default). */
function freshAttrs(flags: number): number {
  let a = flagsToAttrs(flags);
  if (flags & MS.NOATIME) a |= ATTR.NOATIME;
  else if (flags & MS.STRICTATIME) a |= ATTR.STRICTATIME;
  return a;
}

/** Superblock flags a fresh file system takes as fsconfig flags. */
const SB_WORDS: [number, string][] = [
  [MS.SYNCHRONOUS, 'sync'],
  [MS.DIRSYNC, 'dirsync'],
  [MS.LAZYTIME, 'lazytime'],
  [MS.MANDLOCK, 'mand'],
];

/** Kernel file systems: mounted only on real directories, and the masks under them are applied relative to them. */
export const KERNEL_FILESYSTEMS: readonly string[] = ['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2', 'devpts'];

/** A bind of the host's kernel file systems (the fallbacks for /proc, /sys, /sys/fs/cgroup). */
function kernelSource(source: string): boolean {
  return ['/proc', '/sys'].some((k) => source === k || source.startsWith(`${k}/`));
}

export function isKernelMount(s: MountStep): boolean {
  return (s.op === 'fs' && KERNEL_FILESYSTEMS.includes(s.fstype)) || (s.op === 'bind' && kernelSource(s.source));
}

/** An absolute, normalised path inside the container ("dev/" → "/dev"). */
export function containerPath(p: string): string {
  const n = path.posix.normalize('/' + p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export interface MountContext {
  bundle: string;
  /** Namespaces we create (owned by our user namespace). */
  created: ReadonlySet<string>;
  /** Namespaces joined by path (owned by the caller's user namespace or above). */
  joined?: ReadonlySet<string>;
  gidMap: IdRange[];
  /** The host's device nodes, for linux.devices and device binds (default: the real /dev). */
  devices?: DeviceLookup;
  /** Which devices the container may open (linux.resources.devices); default: none but the ones it asks for. */
  devicePolicy?: DevicePolicy;
  /** false (ch-run-oci.proc=fresh): no bind of the caller's /proc where a fresh proc is refused. */
  procFallback?: boolean;
  /** What the container's cgroup mount shows (see cgroups/view.ts). */
  cgroup?: CgroupView;
}

/**
 * A bind of one device node is a device the config asks for (rootless
 * podman's --device): it opens, and the runner checks that the clone it
 * attaches is still that node. Any other bind (a directory, which may hold
 * device nodes: `-v /dev:/hostdev`) is nodev unless the config allows every
 * device.
 */
function deviceAttrs(source: string, ctx: MountContext): { attrs: number; device?: BindStep['device'] } {
  const node = (ctx.devices ?? hostDevices()).at(source);
  if (node) return { attrs: 0, device: { type: node.type, major: node.major, minor: node.minor } };
  return { attrs: (ctx.devicePolicy ?? devicePolicy(undefined)).allowsAll ? 0 : ATTR.NODEV };
}

function bindStep(
  source: string,
  dest: string,
  o: ParsedOptions,
  ctx: MountContext,
  extraAttrs = 0,
  kind: 'dir' | 'auto' = 'auto',
): BindStep {
  const dev = deviceAttrs(source, ctx);
  const step: BindStep = {
    op: 'bind',
    source,
    dest,
    attrs: flagsToAttrs(o.flags) | extraAttrs | dev.attrs,
    propagation: o.propagation,
    recursive: o.recursive,
    kind,
    nofollow: kernelSource(source),
  };
  if (dev.device) step.device = dev.device;
  return step;
}

function freshStep(source: string, dest: string, fstype: string, o: ParsedOptions, data = o.data): FsStep {
  const sb = SB_WORDS.filter(([f]) => o.flags & f).map(([, w]) => w);
  // Device nodes cannot be opened on a file system mounted in a user
  // namespace (the kernel marks it so); devpts is the exception that holds the ptys.
  const nodev = fstype === 'devpts' ? 0 : ATTR.NODEV;
  return {
    op: 'fs',
    fstype,
    source,
    dest,
    attrs: freshAttrs(o.flags) | nodev,
    propagation: o.propagation,
    options: [...sb, ...data],
    nofollow: KERNEL_FILESYSTEMS.includes(fstype),
  };
}

const LOCKDOWN = ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC;

/** One config mount → zero or one step (a cgroup mount: several). */
export function planMount(m: Mount, index: number, ctx: MountContext): BindStep | FsStep | MountStep[] | null {
  const dest = containerPath(m.destination);
  const o = parseOptions(m.options);
  const type = m.type ?? '';
  const field = `mounts[${index}] ${dest}`;
  if (o.bind || type === 'bind') {
    if (!m.source) throw new UserError(field, 'a bind mount needs a source');
    if (o.data.length) log.debug(`${field}: data ${o.data.join(',')} ignored for a bind mount`);
    return bindStep(path.resolve(ctx.bundle, m.source), dest, o, ctx);
  }
  switch (type) {
    case 'proc': {
      const callerProc = bindStep('/proc', dest, { ...o, recursive: true }, ctx, 0, 'dir');
      if (ctx.created.has('pid')) {
        // The kernel refuses a fresh proc (EPERM) when the caller's own /proc
        // has overmounts it may not see through (the masks of an enclosing
        // container: a build inside a CI container). Then, unless the config
        // says ch-run-oci.proc=fresh, the caller's /proc is bound instead:
        // only where the fresh one was refused (the runner notes it).
        const fresh = freshStep('proc', dest, 'proc', o);
        return ctx.procFallback === false ? fresh : { ...fresh, fallback: callerProc };
      }
      // A fresh proc needs a pid namespace owned by our user namespace.
      log.debug(`${field}: no new pid namespace, binding the host's /proc`);
      return callerProc;
    }
    case 'sysfs': {
      // The kernel refuses a fresh sysfs unless the network namespace is owned by
      // our user namespace (a joined or the host's is not): bind the host's /sys,
      // always read-only so the container cannot write the host's settings.
      const hostSys = bindStep('/sys', dest, { ...o, recursive: true }, ctx, LOCKDOWN, 'dir');
      // Even with our own network namespace it refuses (EPERM) when something is
      // mounted over part of the host's /sys (a fresh mount would reveal what
      // that hides): then the same read-only bind, as crun does.
      // A joined one (podman's): the runner makes the sysfs before it enters
      // our user namespace, when the caller may (see sysfsAttrs).
      if (ctx.created.has('network') || ctx.joined?.has('network')) return { ...freshStep('sysfs', dest, 'sysfs', o), fallback: hostSys };
      log.debug(`${field}: no new network namespace, binding the host's /sys read-only`);
      return hostSys;
    }
    case 'mqueue':
      if (ctx.created.has('ipc')) return freshStep('mqueue', dest, 'mqueue', o);
      // mqueue needs an ipc namespace of our own; the host's queues are not shared.
      log.debug(`${field}: no new ipc namespace, mqueue skipped`);
      return null;
    case 'cgroup':
    case 'cgroup2':
      // The container's own cgroups, read-only (see cgroups/view.ts).
      return cgroupMountSteps(dest, ctx.cgroup, ctx.created.has('cgroup'), {
        attrs: flagsToAttrs(o.flags),
        propagation: o.propagation,
        rdonly: ATTR.RDONLY,
        lockdown: LOCKDOWN,
      });
    case 'devpts':
      return freshStep(m.source || 'devpts', dest, 'devpts', o, devptsData(o.data, ctx.gidMap, field));
    case '':
      throw new UserError(field, 'a mount needs a type or the bind option');
    default:
      return freshStep(m.source || type, dest, type, o);
  }
}

/** A private devpts instance; gid= is dropped when that gid has no mapping (the kernel refuses it). */
export function devptsData(data: string[], gidMap: IdRange[], field: string): string[] {
  const out = data.filter((d) => {
    const m = /^gid=(\d+)$/.exec(d);
    if (m && !covers(gidMap, Number(m[1]))) {
      log.debug(`${field}: ${d} dropped: gid not mapped`);
      return false;
    }
    return true;
  });
  if (!out.includes('newinstance')) out.push('newinstance');
  if (!out.some((d) => d.startsWith('ptmxmode='))) out.push('ptmxmode=0666');
  return out;
}

const DEVICES = ['null', 'zero', 'full', 'tty', 'random', 'urandom'];
const DEV_LINKS: [string, string][] = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
  ['ptmx', 'pts/ptmx'],
  ['core', '/proc/kcore'],
];

/** A device node the config asks for: a bind of the host node, which must still be that device when it is attached. */
function deviceBind(source: HostNode, dest: string): BindStep {
  const device = { type: source.type, major: source.major, minor: source.minor };
  return { op: 'bind', source: source.path, dest, attrs: 0, propagation: 0, recursive: false, kind: 'file', nofollow: false, device };
}

/**
 * The devices: binds of host nodes (mknod is not allowed in a user namespace),
 * the default set and then linux.devices (which wins where both name a path),
 * and the usual links.
 */
export function deviceSteps(config: OciConfig, lookup: DeviceLookup = hostDevices()): MountStep[] {
  const asked = (config.linux?.devices ?? []).map((d, i) => {
    const field = `linux.devices[${i}] ${d.path}`;
    noteIgnoredDeviceFields(d, field);
    return { source: hostSourceFor(d, field, lookup), dest: containerPath(d.path) };
  });
  const taken = new Set(asked.map((a) => a.dest));
  const defaults = DEVICES.map((d) => `/dev/${d}`).filter((p) => !taken.has(p));
  const standard = (p: string): BindStep => {
    const node = lookup.at(p);
    if (!node) throw new UserError(p, 'the host has no such device node to bind');
    return deviceBind(node, p);
  };
  const steps: MountStep[] = [...defaults.map(standard), ...asked.map((a) => deviceBind(a.source, a.dest))];
  for (const [name, target] of DEV_LINKS) if (!taken.has(`/dev/${name}`)) steps.push({ op: 'symlink', target, path: `/dev/${name}` });
  return steps;
}

/** All mounts in config order, with the devices right after the /dev mount (or at the end without one). */
export function planMounts(config: OciConfig, ctx: MountContext): MountStep[] {
  const steps: MountStep[] = [];
  let devicesDone = false;
  (config.mounts ?? []).forEach((m, i) => {
    const p = planMount(m, i, ctx);
    const s = Array.isArray(p) ? p[0] : p;
    if (p) steps.push(...[p].flat());
    if (s && (s.op === 'bind' || s.op === 'fs') && s.dest === '/dev') {
      steps.push(...deviceSteps(config, ctx.devices));
      devicesDone = true;
    }
  });
  // Without a /dev mount the nodes are bound onto files in the rootfs's own /dev,
  // as runc does; a config that wants an untouched image mounts a tmpfs there.
  if (!devicesDone) steps.push(...deviceSteps(config, ctx.devices));
  return steps;
}

/**
 * MOUNT_ATTR_* of the sysfs that the runner makes before entering our user
 * namespace for a joined network namespace; undefined when no step needs one.
 */
export function sysfsAttrs(steps: MountStep[], ctx: MountContext): number | undefined {
  if (ctx.created.has('network') || !ctx.joined?.has('network')) return undefined;
  const s = steps.find((m): m is FsStep => m.op === 'fs' && m.fstype === 'sysfs');
  return s?.attrs;
}

/** Does a mount at `dest` hold the container path `p`? */
function holds(dest: string, p: string): boolean {
  return p === dest || p.startsWith(dest === '/' ? '/' : `${dest}/`);
}

/**
 * Where maskedPaths and readonlyPaths go. A path whose topmost mount is a
 * kernel file system (proc, sysfs, or a bind of the host's) is applied right
 * after that mount, relative to it (`rel`): the runner never looks it up
 * through the rootfs, whose symlinks could point it elsewhere. Any other path
 * is resolved in the rootfs once every mount is made (`rootLevel`).
 * Masks first, then read-only paths, as the config lists them.
 */
export function placePathSteps(mounts: MountStep[], config: OciConfig): { steps: MountStep[]; rootLevel: MountStep[] } {
  const wanted = [
    ...(config.linux?.maskedPaths ?? []).map((p) => ({ op: 'mask' as const, path: containerPath(p) })),
    ...(config.linux?.readonlyPaths ?? []).map((p) => ({ op: 'rdonly' as const, path: containerPath(p) })),
  ];
  const after = new Map<number, MountStep[]>();
  const rootLevel: MountStep[] = [];
  for (const w of wanted) {
    let top = -1;
    mounts.forEach((m, i) => {
      if ((m.op === 'bind' || m.op === 'fs') && holds(m.dest, w.path)) top = i;
    });
    const m = mounts[top];
    if (m && (m.op === 'bind' || m.op === 'fs') && isKernelMount(m)) {
      const rel = w.path === m.dest ? '' : w.path.slice(m.dest === '/' ? 1 : m.dest.length + 1);
      after.set(top, [...(after.get(top) ?? []), { ...w, rel }]);
    } else {
      rootLevel.push(w);
    }
  }
  const steps: MountStep[] = [];
  mounts.forEach((m, i) => steps.push(m, ...(after.get(i) ?? [])));
  return { steps, rootLevel };
}

export function propagationFlags(name: string | undefined): number {
  if (!name) return 0;
  const f = PROPAGATION[name];
  if (f === undefined) throw new UserError('linux.rootfsPropagation', `unknown propagation ${name}`);
  return f;
}
