// cgroup v2 specifics: controllers enabled down the tree, the core files
// every cgroup2 directory has (freeze, kill, events), even on a hybrid host's
// controller-less unified mount.
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import { sleepSync } from '../sleep';
import { exists, readFile, readKeyed, writeFile } from './file';

/**
 * A controller is usable in a cgroup only when every ancestor lists it in
 * cgroup.subtree_control. From the mount's root down to the container's
 * parent, enable each controller the ancestor has (runc enables them all).
 * One at a time, errors ignored: an ancestor holding processes refuses, and a
 * controller that ends up missing is reported by the write that needs it.
 */
export function enableControllers(mountpoint: string, dir: string): void {
  const rel = path.relative(mountpoint, dir).split('/').filter(Boolean);
  let cur = mountpoint;
  for (const part of rel) {
    const available = (readFile(path.join(cur, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
    const enabled = new Set((readFile(path.join(cur, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/).filter(Boolean));
    for (const c of available) {
      if (enabled.has(c)) continue;
      try {
        writeFile(path.join(cur, 'cgroup.subtree_control'), `+${c}`);
      } catch {
        /* see above */
      }
    }
    cur = path.join(cur, part);
  }
}

/** The controllers a cgroup may use. */
export function controllersOf(dir: string): Set<string> {
  return new Set((readFile(path.join(dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean));
}

export function events(dir: string): Record<string, number> {
  return readKeyed(path.join(dir, 'cgroup.events'));
}

/** Freeze and wait (about 5 s at most) until the kernel says every task is frozen. */
export function freeze(dir: string): void {
  const file = path.join(dir, 'cgroup.freeze');
  try {
    writeFile(file, '1');
  } catch (err) {
    throw new UserError(`cgroup ${dir}`, `cannot freeze: ${errnoText(err)}`);
  }
  const deadline = Date.now() + 5000;
  for (let i = 0; Date.now() < deadline; i++) {
    if (events(dir).frozen === 1) return;
    sleepSync(i < 20 ? 1 : 5);
  }
  writeFile(file, '0');
  throw new UserError(`cgroup ${dir}`, "could not freeze the container's processes");
}

export function thaw(dir: string): void {
  writeFile(path.join(dir, 'cgroup.freeze'), '0');
}

/** cgroup.kill (Linux 5.14+): SIGKILL to every process below dir, atomically. False when the kernel lacks it. */
export function killAll(dir: string): boolean {
  const file = path.join(dir, 'cgroup.kill');
  if (!exists(file)) return false;
  writeFile(file, '1');
  return true;
}

export function populated(dir: string): boolean {
  return events(dir).populated === 1;
}
