// The cgroupfs manager: makes the container's cgroup (one directory per
// hierarchy), applies linux.resources, moves processes in, freezes, signals,
// reads and removes it. Everything it needs later is in the CgroupRecord that
// create stores in the container's state, so later verbs never re-derive it.
//
// The rule where no cgroup can be written (an unprivileged caller on v1, v2
// without delegation, a read-only cgroup file system) is runc's rootless one,
// the same for every caller: a hierarchy we may not write (EACCES, EPERM,
// EROFS) is left out; then a config that names linux.cgroupsPath, or asks
// for any limit a left-out controller would hold, is refused at create with
// the field named. Without either the container runs in the caller's cgroup.
// A limit is never silently unlimited. devices rules are the exception: they
// hold by construction (only the nodes the config lists are bound, other
// mounts are nodev); the devices controller is written too where that is
// possible (root on v1).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import * as log from '../log';
import { sleepSync } from '../sleep';
import type { LinuxDevice, LinuxResources } from '../spec/types';
import { exists, procsBelow, readFile, readNumber, removeTree, writeFile } from './file';
import { V2, dirOf, isHostRoot, parseProcCgroup, type CgroupMode, type Host } from './host';
import { cgroupPaths, checkPath, echoPath, innerPath, type PathRequest } from './paths';
import { limitFields, mergeResources, resourceWrites, v1DeviceRules, type Probe, type Write } from './resources';
import * as v1 from './v1';
import * as v2 from './v2';
import type { CgroupView } from './view';

export interface CgroupDir {
  /** The hierarchy (host.ts Hierarchy.key); V2 for cgroup2. */
  key: string;
  controllers: string[];
  dir: string;
}

/** What the state record keeps (field `cgroup`). */
export interface CgroupRecord {
  mode: CgroupMode;
  /** The container's cgroups: made by create, or found empty and taken over (runc does both). */
  dirs: CgroupDir[];
  /** Directories create was about to make: a create that died here leaves them to delete (rmdir only, no kill). */
  pending?: string[];
  /** What `state` reads to tell "paused": the file, and its content when frozen. */
  freezer?: { file: string; frozen: string };
  /** The resources in force (update merges into them). */
  resources?: LinuxResources;
}

export interface SetUpRequest extends PathRequest {
  resources?: LinuxResources;
  /** linux.devices: their nodes are allowed by the v1 devices rules too. */
  devices?: LinuxDevice[];
  /** --cgroup-manager disabled: no cgroup at all (then no limit can be applied). */
  disabled?: boolean;
}

export interface SetUp {
  /** undefined: the container runs in the caller's cgroup (nothing to apply). */
  record?: CgroupRecord;
  /** The resource writes, made by admit() once the container process exists. */
  writes: Write[];
  view: CgroupView;
}

const PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);

function version(rec: CgroupRecord): 1 | 2 {
  return rec.mode === 'v2' ? 2 : 1;
}

/** The directory holding `controller`'s files (v2: the one cgroup2 directory). */
export function dirFor(rec: CgroupRecord, controller: string): string | undefined {
  if (rec.mode === 'v2') return rec.dirs.find((d) => d.key === V2)?.dir;
  return rec.dirs.find((d) => d.key !== V2 && d.controllers.includes(controller))?.dir;
}

function probeOf(rec: CgroupRecord): Probe {
  return {
    exists: (c, file) => {
      const d = dirFor(rec, c);
      return d !== undefined && exists(path.join(d, file));
    },
    read: (c, file) => {
      const d = dirFor(rec, c);
      return d === undefined ? undefined : readFile(path.join(d, file));
    },
  };
}

function freezerOf(rec: CgroupRecord): CgroupRecord['freezer'] {
  const d1 = rec.mode !== 'v2' ? dirFor(rec, 'freezer') : undefined;
  if (d1) return { file: path.join(d1, v1.FREEZER_STATE), frozen: 'FROZEN' };
  const d2 = rec.dirs.find((d) => d.key === V2)?.dir;
  if (d2 && exists(path.join(d2, 'cgroup.freeze'))) return { file: path.join(d2, 'cgroup.freeze'), frozen: '1' };
  return undefined;
}

/** Where the caller cannot write cgroups, in words for the messages. */
function noCgroupReason(host: Host): string {
  return host.mode === 'v2'
    ? 'no writable cgroup: cgroup v2 without a delegated subtree for this user'
    : 'no writable cgroup: an unprivileged caller cannot create cgroups on cgroup v1';
}

/** An existing cgroup may be taken over only while nothing is in it and it is not frozen (runc's checks). */
function checkTakeOver(dir: string, key: string, field: string): void {
  const pids = procsBelow(dir);
  if (pids.length) throw new UserError(field, `${dir}: container's cgroup is not empty: ${pids.length} process(es) found`);
  const frozen =
    key === V2
      ? readFile(path.join(dir, 'cgroup.freeze'))?.trim() === '1'
      : readFile(path.join(dir, v1.FREEZER_STATE))?.trim() === 'FROZEN';
  if (frozen) throw new UserError(field, `${dir}: container's cgroup unexpectedly frozen`);
}

/** mkdir -p; the directories it made, top-down (empty when the leaf was there). */
function makeDirs(dir: string): string[] {
  const first = fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (first === undefined) return [];
  const made = [dir];
  for (let d = path.dirname(dir); d.length >= first.length; d = path.dirname(d)) made.unshift(d);
  return made;
}

/**
 * create: the container's cgroup, before the container process exists (the
 * runner's C1 joins it, see src/runner/cgroup.c). `save` stores the record as
 * it grows, so a create killed at any point leaves what delete removes.
 */
export function setUpCgroup(host: Host, req: SetUpRequest, save: (rec: CgroupRecord | undefined) => void): SetUp {
  const limits = limitFields(req.resources);
  // Messages name the field; without one, the cgroup the default rule chose.
  const field = req.cgroupsPath ? `linux.cgroupsPath ${echoPath(req.cgroupsPath)}` : 'linux.cgroupsPath (none given)';
  if (req.disabled) {
    if (limits.length) throw new UserError(limits[0], 'cannot be applied: --cgroup-manager disabled');
    return { writes: [], view: viewFor(host, undefined) };
  }
  // Values and fields this host cannot take are refused before anything is made.
  resourceWrites(req.resources, host.mode === 'v2' ? 2 : 1, { exists: () => false, read: () => undefined });
  const inner = innerPath(req);
  const paths = cgroupPaths(host, inner);
  checkPath(host, paths, field);
  const wanted = host.hierarchies.map((h) => ({ h, dir: dirOf(h, paths.get(h.key)!)! }));
  save({ mode: host.mode, dirs: [], pending: wanted.map((w) => w.dir) });

  const rec: CgroupRecord = { mode: host.mode, dirs: [] };
  const made: string[] = [];
  const refused: { dir: string; err: unknown }[] = [];
  try {
    for (const { h, dir } of wanted) {
      let created: string[];
      try {
        created = makeDirs(dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        // The default cgroup is a convenience: where the caller's own cgroup is not
        // there to make it in (a cgroup tree bound from elsewhere, as in a nested
        // container), it is refused like a read-only one; a named path is not.
        if (PERMISSION.has(code) || (code === 'ENOENT' && inner.isDefault)) {
          refused.push({ dir, err });
          continue;
        }
        throw new UserError(field, `cannot create ${dir}: ${errnoText(err)}`);
      }
      made.push(...created);
      if (!created.includes(dir)) checkTakeOver(dir, h.key, field);
      rec.dirs.push({ key: h.key, controllers: h.controllers, dir });
      if (h.controllers.includes('cpuset')) v1.inheritCpuset(created.includes(dir) ? created : [dir]);
      if (host.mode === 'v2') v2.enableControllers(h.mountpoint, dir);
    }
    if (refused.length && !inner.isDefault) {
      throw new UserError(field, `cannot create ${refused[0].dir}: ${errnoText(refused[0].err)}`);
    }
    if (refused.length)
      log.debug(`cgroup: ${refused.map((r) => `${r.dir}: ${errnoText(r.err)}`).join('; ')}; running without those hierarchies`);
    const writes = planWrites(rec, host, req, refused.length > 0);
    rec.freezer = freezerOf(rec);
    if (req.resources) rec.resources = req.resources;
    const record = rec.dirs.length ? rec : undefined;
    save(record);
    return { record, writes, view: viewFor(host, record) };
  } catch (err) {
    // Nothing of ours may stay: no process can be in these yet.
    for (const d of [...made].reverse()) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* a parent someone else filled meanwhile */
      }
    }
    throw err;
  }
}

/** The resource writes for a new cgroup, each checked to have a directory that holds its controller. */
function planWrites(rec: CgroupRecord, host: Host, req: SetUpRequest, someRefused: boolean): Write[] {
  // Writing devices.allow/deny needs CAP_SYS_ADMIN in the initial user namespace;
  // without rules of the config's own a new cgroup allows what its parent does.
  const devicesRule =
    rec.mode !== 'v2' && (req.resources?.devices ?? []).length > 0 && dirFor(rec, 'devices') !== undefined && isHostRoot();
  const writes = resourceWrites(req.resources, version(rec), probeOf(rec), {
    deviceRules: devicesRule ? v1DeviceRules(req.resources, req.devices ?? []) : undefined,
  });
  checkControllers(rec, writes, someRefused || rec.dirs.length === 0 ? noCgroupReason(host) : undefined);
  return writes;
}

function checkControllers(rec: CgroupRecord, writes: Write[], reason: string | undefined): void {
  for (const w of writes) {
    const dir = dirFor(rec, w.controller);
    if (!dir) {
      throw new UserError(w.field, `cannot be applied: ${reason ?? `no ${w.controller} controller is mounted on this host`}`);
    }
    if (rec.mode === 'v2' && w.controller !== 'cgroup' && !v2.controllersOf(dir).has(w.controller)) {
      throw new UserError(w.field, `cannot be applied: the ${w.controller} controller is not available in ${dir}`);
    }
  }
}

/**
 * Make sure pid is in every one of the container's cgroups: the runner put
 * it there (one read of /proc/PID/cgroup tells), and any hierarchy where it
 * is not gets it written in (each write of cgroup.procs costs the kernel a
 * migration, so the runner's are not repeated).
 */
export function ensureMember(rec: CgroupRecord, pid: number, host: Host): void {
  const inside = new Map(parseProcCgroup(readFile(`/proc/${pid}/cgroup`) ?? '').map((l) => [l.key, l.path]));
  const missing = rec.dirs.filter((d) => {
    const h = host.hierarchies.find((x) => x.key === d.key);
    const cg = inside.get(d.key);
    return !h || cg === undefined || dirOf(h, cg) !== d.dir;
  });
  if (missing.length) addProcess({ ...rec, dirs: missing }, pid);
}

/** Write a pid into every hierarchy; EINVAL (a task still being forked) is retried, as runc does. */
export function addProcess(rec: CgroupRecord, pid: number): void {
  for (const d of rec.dirs) {
    const file = path.join(d.dir, 'cgroup.procs');
    for (let i = 0; ; i++) {
      try {
        writeFile(file, String(pid));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EINVAL' && i < 5) {
          sleepSync(30);
          continue;
        }
        throw new UserError(`cgroup ${d.dir}`, `cannot add process ${pid}: ${errnoText(err)}`);
      }
    }
  }
}

/** The cgroup.procs files the runner writes itself into. */
export function procsFiles(rec: CgroupRecord | undefined): string[] {
  return (rec?.dirs ?? []).map((d) => path.join(d.dir, 'cgroup.procs'));
}

/** Apply writes in order; an EINVAL on a write marked retryLast is retried once at the end. */
export function applyWrites(rec: CgroupRecord, writes: Write[]): void {
  const later: Write[] = [];
  for (const w of writes) {
    const err = tryWrite(rec, w);
    if (!err) continue;
    if (err.code === 'EINVAL' && w.retryLast) later.push(w);
    else fail(rec, w, err);
  }
  for (const w of later) {
    const err = tryWrite(rec, w);
    if (err) fail(rec, w, err);
  }
}

function tryWrite(rec: CgroupRecord, w: Write): NodeJS.ErrnoException | undefined {
  const dir = dirFor(rec, w.controller)!;
  const file = path.join(dir, w.file);
  try {
    writeFile(file, w.value);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && w.optional) return undefined;
    return e;
  }
  if (w.verify) {
    const back = readFile(file)?.trim();
    if (back !== w.value) {
      const more = Number(back) < Number(w.value);
      throw new UserError(w.field, `the ${more ? 'maximum' : 'minimum'} allowed ${w.file} is ${back}`);
    }
  }
  return undefined;
}

function fail(rec: CgroupRecord, w: Write, err: NodeJS.ErrnoException): never {
  const dir = dirFor(rec, w.controller)!;
  if (err.code === 'EBUSY' && w.file === 'memory.limit_in_bytes') {
    const usage = readNumber(path.join(dir, 'memory.usage_in_bytes'));
    const peak = readNumber(path.join(dir, 'memory.max_usage_in_bytes'));
    throw new UserError(w.field, `unable to set memory limit to ${w.value} (current usage: ${usage}, peak usage: ${peak})`);
  }
  throw new UserError(w.field, `cannot write "${w.value}" to ${path.join(dir, w.file)}: ${errnoText(err)}`);
}

/** update: merge, refuse a limit below the current use when asked to (checkBeforeUpdate), apply; the merged resources. */
export function updateResources(rec: CgroupRecord, patch: LinuxResources): LinuxResources {
  const merged = mergeResources(rec.resources, patch);
  const m = patch.memory;
  if (m?.checkBeforeUpdate) {
    const dir = dirFor(rec, 'memory');
    const usage = dir ? readNumber(path.join(dir, rec.mode === 'v2' ? 'memory.current' : 'memory.usage_in_bytes')) : undefined;
    if (usage !== undefined) {
      for (const [k, v] of [
        ['swap', m.swap],
        ['limit', m.limit],
      ] as const) {
        if (v !== undefined && v > 0 && v <= usage)
          throw new UserError(`memory.${k}`, `rejecting memory${k === 'swap' ? '+swap' : ''} limit ${v} <= usage ${usage}`);
      }
    }
  }
  // Devices are left as they are (runc's update does not change them either).
  const writes = resourceWrites({ ...merged, devices: undefined }, version(rec), probeOf(rec));
  checkControllers(rec, writes, undefined);
  applyWrites(rec, writes);
  return merged;
}

/** Every process in the container's cgroups (and below), without duplicates. */
export function cgroupPids(rec: CgroupRecord): number[] {
  const seen = new Set<number>();
  for (const d of rec.dirs) for (const pid of procsBelow(d.dir)) seen.add(pid);
  return [...seen];
}

export function isFrozen(rec: CgroupRecord): boolean {
  return rec.freezer !== undefined && readFile(rec.freezer.file)?.trim() === rec.freezer.frozen;
}

export function freeze(rec: CgroupRecord): void {
  const f = rec.freezer;
  if (!f) throw new UserError('pause', 'the container has no freezer (it runs without a cgroup)');
  if (f.frozen === 'FROZEN') v1.freeze(path.dirname(f.file));
  else v2.freeze(path.dirname(f.file));
}

export function thaw(rec: CgroupRecord): void {
  const f = rec.freezer;
  if (!f) return;
  try {
    if (f.frozen === 'FROZEN') v1.thaw(path.dirname(f.file));
    else v2.thaw(path.dirname(f.file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Signal every process of the cgroups. SIGKILL goes through cgroup.kill where
 * the kernel has it (nothing can fork past it); otherwise the cgroup is frozen
 * while the pids are listed and signalled, so no new one slips through, then
 * thawed (a paused container stays paused unless it was SIGKILLed, which
 * needs the thaw to die). The pids signalled are returned.
 */
export function signalAll(rec: CgroupRecord, signal: number): number[] {
  const SIGKILL = 9;
  const cg2 = rec.dirs.find((d) => d.key === V2)?.dir;
  const wasFrozen = isFrozen(rec);
  const before = cgroupPids(rec);
  if (signal === SIGKILL && cg2 && v2.killAll(cg2)) {
    // cgroup.kill covers the cgroup2 hierarchy; on a hybrid host a process may have left it in a v1 one only.
    const pids = [...new Set([...before, ...cgroupPids(rec)])];
    for (const pid of pids) kill(pid, signal);
    // A task frozen by the v1 freezer dies only once thawed.
    if (wasFrozen) thaw(rec);
    return pids;
  }
  let froze = false;
  try {
    if (rec.freezer && !wasFrozen) {
      freeze(rec);
      froze = true;
    }
  } catch (err) {
    log.debug(`kill --all: could not freeze first: ${(err as Error).message}`);
  }
  const all = cgroupPids(rec);
  for (const pid of all) kill(pid, signal);
  if (froze || (wasFrozen && signal === SIGKILL)) thaw(rec);
  return all;
}

function kill(pid: number, signal: number): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw new UserError(`kill ${pid}`, errnoText(err));
  }
}

/**
 * delete (and a failed create): kill whatever is left, remove the cgroups
 * (children first), and the directories a dead create had pending (rmdir only:
 * it cannot have started anything in them). Throws when a cgroup stays busy.
 */
export function removeCgroup(rec: CgroupRecord): void {
  if (rec.dirs.length && cgroupPids(rec).length) {
    signalAll(rec, 9);
    // Killed processes leave their cgroups as they exit: wait a little for that.
    for (let i = 0; i < 200 && cgroupPids(rec).length; i++) sleepSync(i < 20 ? 1 : 10);
  }
  let failure: unknown;
  for (const d of rec.dirs) {
    try {
      removeTree(d.dir);
    } catch (err) {
      failure ??= new UserError(`cgroup ${d.dir}`, `cannot remove: ${errnoText(err)}`);
    }
  }
  for (const dir of rec.pending ?? []) {
    try {
      fs.rmdirSync(dir);
    } catch {
      /* not made, or not ours to remove */
    }
  }
  if (failure) throw failure;
}

/** The container's view of its cgroups (see view.ts): its own directories, else the caller's. */
export function viewFor(host: Host, rec: CgroupRecord | undefined): CgroupView {
  const view: CgroupView = { mode: host.mode, v1: [], links: host.links ?? [] };
  for (const h of host.hierarchies) {
    const dir = rec?.dirs.find((d) => d.key === h.key)?.dir ?? dirOf(h, h.own);
    if (!dir) continue;
    if (h.key === V2) {
      const name = host.mode === 'v2' ? '' : path.basename(h.mountpoint);
      if (host.mode === 'v2' || path.dirname(h.mountpoint) === host.base) view.v2 = { name, dir };
    } else if (path.dirname(h.mountpoint) === host.base) {
      view.v1.push({ name: path.basename(h.mountpoint), dir });
    }
  }
  return view;
}
