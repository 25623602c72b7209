// The host's cgroup layout as this process sees it: which hierarchies are
// mounted where (/proc/self/mountinfo) and which cgroup we are in, in each
// (/proc/self/cgroup). The parsers are pure; readHost() reads the two files.
//
// Modes (as runc and crun name them):
//   v2      one cgroup2 hierarchy at /sys/fs/cgroup holds every controller
//   v1      one cgroup v1 hierarchy per controller set, no cgroup2 mount
//   hybrid  v1 hierarchies plus a cgroup2 mount (usually /sys/fs/cgroup/unified),
//           which then has no controllers but still freezes, kills and tells
//           whether a cgroup is populated
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

/** The key of the cgroup2 hierarchy ("0::/path" in /proc/self/cgroup). */
export const V2 = '';

export interface Hierarchy {
  /** As /proc/self/cgroup names it: "memory", "cpu,cpuacct", "name=systemd"; V2 for cgroup2. */
  key: string;
  /** v1: the controllers (key split at commas; "name=…" hierarchies have none). */
  controllers: string[];
  /** Where it is mounted (in our mount namespace). */
  mountpoint: string;
  /** The cgroup shown at the mountpoint (mountinfo's root field: "/" on a host). */
  mountRoot: string;
  /** Our own cgroup in this hierarchy, from the hierarchy's root. */
  own: string;
}

export interface Host {
  mode: CgroupMode;
  /** v1 hierarchies first (in /proc/self/cgroup order), then the cgroup2 one if mounted. */
  hierarchies: Hierarchy[];
  /** The directory the v1 mountpoints sit in (/sys/fs/cgroup). */
  base: string;
  /** Its symlinks (cpu -> cpu,cpuacct, where controllers share a hierarchy), shown to containers too. */
  links?: { name: string; target: string }[];
}

export interface CgroupMount {
  root: string;
  mountpoint: string;
  fstype: 'cgroup' | 'cgroup2';
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup and cgroup2 mounts of a /proc/PID/mountinfo text. */
export function parseMountinfo(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const head = line.slice(0, sep).split(' ');
    const tail = line.slice(sep + 3).split(' ');
    const fstype = tail[0];
    if ((fstype !== 'cgroup' && fstype !== 'cgroup2') || head.length < 5) continue;
    out.push({ root: unescape(head[3]), mountpoint: unescape(head[4]), fstype, superOptions: (tail[2] ?? '').split(',') });
  }
  return out;
}

/** /proc/PID/cgroup: "ID:KEY:PATH" per hierarchy (PATH may itself hold colons). */
export function parseProcCgroup(text: string): { id: number; key: string; path: string }[] {
  const out: { id: number; key: string; path: string }[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    out.push({ id: Number(line.slice(0, a)), key: line.slice(a + 1, b), path: line.slice(b + 1) });
  }
  return out;
}

function isUnder(p: string, root: string): boolean {
  return root === '/' || p === root || p.startsWith(root + '/');
}

/**
 * The mount that shows our cgroup of a hierarchy: one whose root holds it,
 * preferring /sys/fs/cgroup (a bind elsewhere may show a subtree).
 */
function pickMount(candidates: CgroupMount[], own: string): CgroupMount | undefined {
  const usable = candidates.filter((m) => isUnder(own, m.root));
  return usable.find((m) => m.mountpoint.startsWith('/sys/fs/cgroup')) ?? usable[0];
}

export function buildHost(procCgroup: string, mountinfo: string): Host {
  const mounts = parseMountinfo(mountinfo);
  const hierarchies: Hierarchy[] = [];
  let v2: Hierarchy | undefined;
  for (const line of parseProcCgroup(procCgroup)) {
    if (line.id === 0 && line.key === V2) {
      const m = pickMount(
        mounts.filter((x) => x.fstype === 'cgroup2'),
        line.path,
      );
      if (m) v2 = { key: V2, controllers: [], mountpoint: m.mountpoint, mountRoot: m.root, own: line.path };
      continue;
    }
    if (line.key === '') continue;
    const names = line.key.split(',');
    const m = pickMount(
      mounts.filter((x) => x.fstype === 'cgroup' && names.every((n) => x.superOptions.includes(n))),
      line.path,
    );
    if (!m) continue; // a hierarchy nobody mounted: nothing to place a container in
    hierarchies.push({
      key: line.key,
      controllers: names.filter((n) => !n.startsWith('name=')),
      mountpoint: m.mountpoint,
      mountRoot: m.root,
      own: line.path,
    });
  }
  const mode: CgroupMode = !v2 ? 'v1' : hierarchies.some((h) => h.controllers.length > 0) ? 'hybrid' : 'v2';
  // Pure v2: only the cgroup2 hierarchy counts (a stray named v1 mount is not ours to manage).
  const all = mode === 'v2' ? [v2!] : v2 ? [...hierarchies, v2] : hierarchies;
  const first = all.find((h) => h.key !== V2) ?? all[0];
  return { mode, hierarchies: all, base: first ? path.dirname(first.mountpoint) : '/sys/fs/cgroup' };
}

let seen: { host: Host | undefined } | undefined;

/**
 * The layout this process sees, or undefined when no cgroup file system is
 * mounted. Read once per process: a verb asks several times (delete checks
 * the record, then removes the cgroup) and its own mounts do not change.
 */
export function readHost(): Host | undefined {
  seen ??= { host: readHostNow() };
  return seen.host;
}

function readHostNow(): Host | undefined {
  let cg: string, mi: string;
  try {
    cg = fs.readFileSync('/proc/self/cgroup', 'utf8');
    mi = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const host = buildHost(cg, mi);
  if (!host.hierarchies.length) return undefined;
  host.links = [];
  if (host.mode !== 'v2') {
    try {
      for (const e of fs.readdirSync(host.base, { withFileTypes: true })) {
        if (!e.isSymbolicLink()) continue;
        const target = fs.readlinkSync(path.join(host.base, e.name));
        if (!target.includes('/')) host.links.push({ name: e.name, target });
      }
    } catch {
      /* no links to show */
    }
  }
  return host;
}

/** The directory of `cgroup` (a path from the hierarchy's root) under the hierarchy's mountpoint, if the mount shows it. */
export function dirOf(h: Hierarchy, cgroup: string): string | undefined {
  if (!isUnder(cgroup, h.mountRoot)) return undefined;
  const rel = path.posix.relative(h.mountRoot, cgroup);
  return rel === '' ? h.mountpoint : path.posix.join(h.mountpoint, rel);
}

/** The hierarchy that holds a controller (v2: the cgroup2 one for every controller). */
export function hierarchyFor(host: Host, controller: string): Hierarchy | undefined {
  if (host.mode === 'v2') return host.hierarchies[0];
  return host.hierarchies.find((h) => h.controllers.includes(controller));
}

/** Euid 0 in the initial user namespace (not root of some user namespace): may write v1 devices rules, owns systemd's tree. */
export function isHostRoot(): boolean {
  if (process.geteuid?.() !== 0) return false;
  try {
    return /^\s*0\s+0\s+4294967295\s*$/.test(fs.readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}
