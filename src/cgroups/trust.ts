// The cgroup directories a state record names are checked before delete,
// kill --all, ps, exec, pause, resume, update or events act on them: an
// unprivileged caller's state root is its own to edit, and a record pointing
// at a hierarchy root, the caller's own cgroup or one of its parents, or any
// other directory would have us kill, freeze, move or remove what is not the
// container's. Every recorded directory (and every pending one) must be
// strictly below the mountpoint of the hierarchy it names (as this process
// sees the mounts now), with that hierarchy's controllers, not the caller's
// cgroup or a parent of it; one with the default name must be exactly where
// create puts it (under the caller's cgroup, or its parent on pure v2).
import * as path from 'node:path';
import { UserError } from '../errors';
import { V2, readHost, type Host } from './host';
import type { CgroupRecord } from './manager';
import { cgroupPaths, defaultName, echoPath } from './paths';

/** What is wrong with `rec` on `host` for container `id` of `stateRoot`, or undefined. */
export function recordProblem(host: Host | undefined, rec: CgroupRecord, id: string, stateRoot: string): string | undefined {
  if (!host) return 'no cgroup file system is mounted';
  if (!Array.isArray(rec.dirs) || (rec.pending !== undefined && !Array.isArray(rec.pending))) return 'malformed';
  const name = defaultName(id, stateRoot);
  const defaults = cgroupPaths(host, { path: name, isDefault: true });
  const check = (dir: unknown, key: string | undefined): string | undefined => {
    if (typeof dir !== 'string' || !dir.startsWith('/') || path.posix.normalize(dir) !== dir || dir.endsWith('/'))
      return `${echoPath(String(dir))} is not a clean absolute path`;
    const hs = host.hierarchies.filter((x) => (key === undefined ? dir.startsWith(x.mountpoint + '/') : x.key === key));
    if (!hs.length) return `${echoPath(dir)} is in no mounted cgroup hierarchy${key === undefined ? '' : ` "${key}"`}`;
    for (const h of hs) {
      const hname = h.key === V2 ? 'cgroup2' : h.key;
      if (!dir.startsWith(h.mountpoint + '/'))
        return `${echoPath(dir)} is not strictly below ${h.mountpoint} (${hname}): a hierarchy root, or outside it`;
      const cg = path.posix.join(h.mountRoot, path.posix.relative(h.mountpoint, dir));
      if (cg === h.own || h.own.startsWith(cg + '/')) return `${echoPath(dir)} is the caller's own cgroup or one of its parents (${hname})`;
      if (path.posix.basename(cg) === name && cg !== defaults.get(h.key))
        return `${echoPath(dir)} has the default name but is not where create puts it (${hname})`;
    }
    return undefined;
  };
  for (const d of rec.dirs) {
    if (!d || typeof d !== 'object') return 'malformed';
    const h = host.hierarchies.find((x) => x.key === d.key);
    if (!h) return `${echoPath(String(d.dir))}: hierarchy "${String(d.key)}" is not mounted`;
    if (!Array.isArray(d.controllers) || d.controllers.join(',') !== h.controllers.join(','))
      return `${echoPath(String(d.dir))}: controllers do not match hierarchy "${h.key === V2 ? 'cgroup2' : h.key}"`;
    const p = check(d.dir, d.key);
    if (p) return p;
  }
  for (const dir of rec.pending ?? []) {
    const p = check(dir, undefined);
    if (p) return p;
  }
  const f = rec.freezer;
  if (
    f !== undefined &&
    !rec.dirs.some((d) => f && (f.file === path.posix.join(d.dir, 'freezer.state') || f.file === path.posix.join(d.dir, 'cgroup.freeze')))
  )
    return `freezer file ${echoPath(String(f?.file))} is not in a recorded cgroup`;
  return undefined;
}

/** The record's cgroup once checked against the mounts (see the header), or undefined when it has none. */
export function trustedCgroup(record: { id: string; cgroup?: CgroupRecord }, stateRoot: string): CgroupRecord | undefined {
  if (!record.cgroup) return undefined;
  const problem = recordProblem(readHost(), record.cgroup, record.id, stateRoot);
  if (problem) throw new UserError(`container "${record.id}"`, `state.json's cgroup record refused: ${problem}`);
  return record.cgroup;
}
