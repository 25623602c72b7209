// User namespace id mapping. The container always gets a new user namespace;
// what we may map into it depends on the caller:
// - "all": the caller holds several ids and CAP_SETUID/CAP_SETGID (real root,
//   or euid 0 inside buildah's rootless namespace): every id of the caller's own
//   namespace is mapped to itself, so process.user and chown behave as in crun.
// - "single": an ordinary user may map exactly one uid and one gid (its own),
//   and only after denying setgroups (kernel rule since 3.19). We map them to
//   process.user.uid/gid, so the program sees the user the config asked for.
import * as fs from 'node:fs';
import { UserError } from '../errors';
import * as log from '../log';
import type { IdMapping, OciConfig } from '../spec/types';
import { KEEP_GROUPS } from '../spec/policy';
import type { IdPlan, IdRange } from '../runner/plan';

export interface CallerIds {
  euid: number;
  egid: number;
  /** The caller's own namespace maps (the `inside` column is what the caller may use). */
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** CAP_SETUID and CAP_SETGID in the caller's effective set. */
  canSetIds: boolean;
}

const CAP_SETGID = 6n;
const CAP_SETUID = 7n;

export function parseIdMap(text: string): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const [inside, outside, count] = f.map(Number);
    if ([inside, outside, count].every(Number.isSafeInteger)) out.push({ inside, outside, count });
  }
  return out;
}

/** Parses /proc/self/status's CapEff line: true when CAP_SETUID and CAP_SETGID are both there. */
export function capEffHasSetIds(status: string): boolean {
  const m = /^CapEff:\s*([0-9a-fA-F]+)/m.exec(status);
  if (!m) return false;
  const eff = BigInt('0x' + m[1]);
  return ((eff >> CAP_SETUID) & 1n) === 1n && ((eff >> CAP_SETGID) & 1n) === 1n;
}

/** The only /proc reading of the planning: who is calling us. */
export function readCallerIds(): CallerIds {
  return {
    euid: process.geteuid!(),
    egid: process.getegid!(),
    uidMap: parseIdMap(fs.readFileSync('/proc/self/uid_map', 'utf8')),
    gidMap: parseIdMap(fs.readFileSync('/proc/self/gid_map', 'utf8')),
    canSetIds: capEffHasSetIds(fs.readFileSync('/proc/self/status', 'utf8')),
  };
}

function total(map: IdRange[]): number {
  return map.reduce((n, r) => n + r.count, 0);
}

/** Does `map`'s inside column cover [first, first+count)? Ranges never overlap (kernel rule). */
export function covers(map: IdRange[], first: number, count = 1): boolean {
  let need = first;
  const end = first + count;
  // Walk the ranges in order of their inside start, extending `need` while contiguous.
  const sorted = [...map].sort((a, b) => a.inside - b.inside);
  for (const r of sorted) {
    if (r.inside <= need && need < r.inside + r.count) need = r.inside + r.count;
    if (need >= end) return true;
  }
  return need >= end;
}

/** The caller may map ids it holds only with the caps, and "several ids" makes the mode worth it. */
export function holdsSeveralIds(c: CallerIds): boolean {
  return c.canSetIds && total(c.uidMap) > 1 && total(c.gidMap) > 1;
}

function identity(map: IdRange[]): IdRange[] {
  return map.map((r) => ({ inside: r.inside, outside: r.inside, count: r.count }));
}

function fromConfig(m: IdMapping[]): IdRange[] {
  return m.map((x) => ({ inside: x.containerID, outside: x.hostID, count: x.size }));
}

/** Explicit linux.uidMappings/gidMappings: may this caller write them? Returns why not, or null. */
function refuseExplicit(given: IdRange[], caller: CallerIds, callerMap: IdRange[], own: number): string | null {
  if (holdsSeveralIds(caller)) {
    const bad = given.find((r) => !covers(callerMap, r.outside, r.count));
    return bad ? `host ids ${bad.outside}-${bad.outside + bad.count - 1} are not mapped in the caller's user namespace` : null;
  }
  // Without the caps the kernel accepts exactly one line mapping our own id.
  if (given.length === 1 && given[0].count === 1 && given[0].outside === own) return null;
  return `an unprivileged user can map only its own id (${own}, size 1)`;
}

export function planIds(config: OciConfig, caller: CallerIds): IdPlan {
  const user = config.process?.user ?? {};
  const uid = user.uid ?? 0;
  const gid = user.gid ?? 0;
  const extra = user.additionalGids ?? [];
  const lu = config.linux?.uidMappings;
  const lg = config.linux?.gidMappings;
  const several = holdsSeveralIds(caller);

  let uidMap: IdRange[];
  let gidMap: IdRange[];
  let setgroups: boolean;
  if ((lu && lu.length) || (lg && lg.length)) {
    if (!lu?.length || !lg?.length) throw new UserError('linux.uidMappings', 'uidMappings and gidMappings must be given together');
    uidMap = fromConfig(lu);
    gidMap = fromConfig(lg);
    const whyU = refuseExplicit(uidMap, caller, caller.uidMap, caller.euid);
    if (whyU) throw new UserError('linux.uidMappings', whyU);
    const whyG = refuseExplicit(gidMap, caller, caller.gidMap, caller.egid);
    if (whyG) throw new UserError('linux.gidMappings', whyG);
    setgroups = several;
  } else if (several) {
    uidMap = identity(caller.uidMap);
    gidMap = identity(caller.gidMap);
    setgroups = true;
  } else {
    uidMap = [{ inside: uid, outside: caller.euid, count: 1 }];
    gidMap = [{ inside: gid, outside: caller.egid, count: 1 }];
    setgroups = false;
  }
  if (!covers(uidMap, uid)) throw new UserError('process.user.uid', `${uid} is not mapped in the container's user namespace`);
  if (!covers(gidMap, gid)) throw new UserError('process.user.gid', `${gid} is not mapped in the container's user namespace`);

  let groups: number[] | null = null;
  if (config.annotations?.[KEEP_GROUPS] === '1') {
    // crun's keep_original_groups (podman --group-add keep-groups): never call setgroups.
    if (extra.length) log.debug(`process.user.additionalGids ${extra.join(',')} dropped: ${KEEP_GROUPS} keeps the caller's groups`);
  } else if (setgroups) {
    groups = extra.filter((g) => covers(gidMap, g));
  } else if (extra.length) {
    // setgroups is denied in a single-id namespace: the process keeps no extra groups.
    log.debug(`process.user.additionalGids ${extra.join(',')} dropped: a single-id user namespace cannot set groups`);
  }
  if (groups && groups.length !== extra.length) {
    const dropped = extra.filter((g) => !covers(gidMap, g));
    log.debug(`process.user.additionalGids ${dropped.join(',')} dropped: not mapped`);
  }
  const mapped = (map: IdRange[], id: number) => map.some((r) => r.outside <= id && id < r.outside + r.count);
  let setupIds: IdPlan['setupIds'];
  if (!mapped(uidMap, caller.euid) || !mapped(gidMap, caller.egid)) {
    const su = covers(uidMap, 0) ? 0 : uid;
    const sg = covers(gidMap, 0) ? 0 : gid;
    setupIds = { uid: su, gid: sg, hostUid: outsideOf(uidMap, su), hostGid: outsideOf(gidMap, sg) };
  }
  return { uidMap, gidMap, setgroups, uid, gid, groups, setupIds };
}

/** The caller's id for a container id that the map covers. */
function outsideOf(map: IdRange[], inside: number): number {
  const r = map.find((x) => x.inside <= inside && inside < x.inside + x.count)!;
  return r.outside + (inside - r.inside);
}
