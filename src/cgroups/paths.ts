// Where a container's cgroup goes: pure rules, runc's where a client can
// tell the difference.
//
// - linux.cgroupsPath absolute ("/docker/ID"): that path from the root of every
//   hierarchy.
// - relative ("pods/ID"): under the caller's own cgroup in each v1 hierarchy
//   (and in a hybrid host's cgroup2 one); on a pure v2 host under the PARENT
//   of the caller's cgroup, which unlike the caller's own holds no processes
//   and so may enable controllers for children (runc's rule).
// - either is cleaned lexically first, so ".." cannot climb above the
//   hierarchy root or the caller's cgroup.
// - absent: relative, named `ch-run-oci-HASH-ID`. runc names it ID alone, but
//   ids are unique only within a state root, and two containers sharing a
//   cgroup would kill each other's processes on delete; HASH (of the state
//   root) keeps the name unique per root+id.
// - systemd ("slice:prefix:name", with --systemd-cgroup): turned into the
//   cgroupfs path systemd would have given the unit
//   (/system.slice/prefix-name.scope); see systemdPath.
// SHA-256 in JavaScript (@noble/hashes): node:crypto would load OpenSSL, ~10 M
// instructions of every delete, for two short strings.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import * as path from 'node:path';
import { UserError } from '../errors';
import { V2, dirOf, type Host } from './host';

export type Manager = 'cgroupfs' | 'systemd';
/** What --systemd-cgroup / --cgroup-manager choose (crun's names); disabled: no cgroup at all. */
export type ManagerChoice = Manager | 'disabled';

export interface PathRequest {
  cgroupsPath?: string;
  id: string;
  stateRoot: string;
  manager: Manager;
  /** euid 0 in the initial user namespace: systemd's default slice is system.slice, else user.slice. */
  privileged: boolean;
}

export interface Inner {
  /** Absolute: from each hierarchy's root; relative: from the caller's cgroup (see above). */
  path: string;
  /** No cgroupsPath was given (the default name). */
  isDefault: boolean;
}

/** runc's CleanPath: absolute paths are normalised; relative ones cannot climb out with "..". */
export function cleanPath(p: string): string {
  if (p === '') return '';
  if (p.startsWith('/')) return path.posix.normalize(p).replace(/(.)\/+$/, '$1');
  const abs = path.posix.normalize('/' + p);
  return path.posix.relative('/', abs);
}

const hex256 = (s: string): string => bytesToHex(sha256(utf8ToBytes(s)));

/** The default leaf name (see the header). Long ids are hashed so the name fits NAME_MAX. */
export function defaultName(id: string, stateRoot: string): string {
  const root = hex256(stateRoot).slice(0, 8);
  const name = `ch-run-oci-${root}-${id}`;
  return Buffer.byteLength(name) <= 255 ? name : `ch-run-oci-${root}-${hex256(id)}`;
}

const SLICE = /^[A-Za-z0-9:_.\\-]+\.slice$/;

/**
 * systemd's slice naming: "a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice;
 * "-.slice" (and "") is the root.
 */
export function expandSlice(slice: string, field: string): string {
  if (slice === '' || slice === '-.slice') return '/';
  const name = slice.slice(0, -'.slice'.length);
  if (!SLICE.test(slice) || slice.includes('/') || name.startsWith('-') || name.endsWith('-') || name.includes('--')) {
    throw new UserError(field, `"${slice}" is not a valid systemd slice name`);
  }
  const parts = name.split('-');
  return '/' + parts.map((_, i) => parts.slice(0, i + 1).join('-') + '.slice').join('/');
}

/**
 * --systemd-cgroup without systemd to talk to: the cgroupfs path the unit
 * would have had. "slice:prefix:name" → SLICE/prefix-name.scope; a name that
 * is itself a slice ("x.slice") is the container's cgroup (as runc). No
 * cgroupsPath: system.slice (user.slice for others) / ch-run-oci-ID.scope.
 */
export function systemdPath(req: PathRequest): string {
  const field = 'linux.cgroupsPath';
  const spec = req.cgroupsPath ?? '';
  let slice: string, prefix: string, name: string;
  if (spec === '') {
    [slice, prefix, name] = ['', 'ch-run-oci', req.id];
  } else {
    const parts = spec.split(':');
    if (parts.length !== 3) throw new UserError(field, `expected "slice:prefix:name" for systemd cgroups, got "${spec}"`);
    [slice, prefix, name] = parts;
    if (name === '' || name.includes('/')) throw new UserError(field, `"${name}" is not a valid unit name`);
  }
  if (slice === '') slice = req.privileged ? 'system.slice' : 'user.slice';
  if (name.endsWith('.slice')) return expandSlice(name, field);
  const unit = `${prefix ? `${prefix}-` : ''}${name}.scope`;
  return path.posix.join(expandSlice(slice, field), unit);
}

/** cgroupsPath as a message shows it: escaped and cut, so a hostile one cannot flood the line. */
export function echoPath(p: string): string {
  return JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p);
}

/** The container's cgroup, relative to the hierarchies (see the header). */
export function innerPath(req: PathRequest): Inner {
  const given = req.cgroupsPath ?? '';
  // The kernel refuses newlines in cgroup names; a NUL cannot be in a path at all.
  if (/[\0\n]/.test(given)) throw new UserError(`linux.cgroupsPath ${echoPath(given)}`, 'must not contain NUL or newline characters');
  if (given.length > 4096) throw new UserError(`linux.cgroupsPath ${echoPath(given)}`, 'longer than 4096 characters');
  if (req.manager === 'systemd') {
    const p = systemdPath(req);
    // A non-root caller has no say over systemd's tree: its units live under
    // its own delegated cgroup, like a relative cgroupfs path.
    return { path: req.privileged ? p : p.slice(1), isDefault: req.cgroupsPath === undefined || req.cgroupsPath === '' };
  }
  if (req.cgroupsPath === undefined || req.cgroupsPath === '') {
    return { path: defaultName(req.id, req.stateRoot), isDefault: true };
  }
  return { path: cleanPath(req.cgroupsPath), isDefault: false };
}

/** Hierarchy key → the container's cgroup there (a path from that hierarchy's root). */
export function cgroupPaths(host: Host, inner: Inner): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of host.hierarchies) {
    let base = '/';
    if (!inner.path.startsWith('/')) {
      // Pure v2: the parent of our own cgroup (see the header).
      base = host.mode === 'v2' && h.key === V2 ? path.posix.dirname(h.own) : h.own;
    }
    out.set(h.key, path.posix.join(base, inner.path));
  }
  return out;
}

/**
 * The cgroup must be below the hierarchy root and must not be the caller's
 * own cgroup or one of its ancestors: kill --all and delete would then find
 * the caller (or the whole host) among the container's processes.
 */
export function checkPath(host: Host, cgroups: Map<string, string>, field: string): void {
  for (const h of host.hierarchies) {
    const cg = cgroups.get(h.key)!;
    const name = h.key === V2 ? 'cgroup2' : h.key;
    if (cg === h.own || h.own.startsWith(cg === '/' ? '/' : cg + '/')) {
      throw new UserError(field, `${cg} (${name}) is the caller's own cgroup or one of its parents`);
    }
    if (dirOf(h, cg) === undefined)
      throw new UserError(field, `${cg} (${name}) is outside the cgroup file system mounted at ${h.mountpoint}`);
  }
}
