// The plan for running one more process in a running container (`exec`): join
// every namespace of the container process that differs from ours (its user
// namespace first, which gives us the capabilities to join the others, its
// mount namespace last, which puts us at its root), then the usual process
// settings. Nothing is created, nothing is mounted.
import * as fs from 'node:fs';
import { UserError } from '../errors';
import * as log from '../log';
import type { NamespaceType, Process } from '../spec/types';
import { covers, parseIdMap, type IdRange } from './idmap';
import { CLONE } from './plan';
import { planProcess, type ProcessPlan } from './process';
import { planFakeroot, type FakerootPlan } from './fakeroot';
import type { OciConfig } from '../spec/types';

export interface ExecPlan {
  kind: 'exec';
  wait: boolean;
  preserveFds: number;
  joins: { type: NamespaceType; flag: number; path: string }[];
  ids: { uid: number; gid: number; groups: number[] | null };
  process: ProcessPlan;
  /** The same fake-root filter as the container's own process (single-id containers). */
  fakeroot?: FakerootPlan;
  /** The container's session keyring, joined by name (undefined: the caller's is kept, as by the container). */
  keyring?: string;
}

/** What we learn about the running container from /proc/PID. */
export interface ContainerView {
  pid: number;
  /** Namespaces of the container process that are not ours. */
  namespaces: NamespaceType[];
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** /proc/PID/setgroups says "allow". */
  setgroups: boolean;
}

// The join order: user first, mount last (see above). /proc/PID/ns file names.
const ORDER: [NamespaceType, string][] = [
  ['user', 'user'],
  ['ipc', 'ipc'],
  ['uts', 'uts'],
  ['network', 'net'],
  ['cgroup', 'cgroup'],
  ['pid', 'pid'],
  ['mount', 'mnt'],
];

export function readContainerView(pid: number): ContainerView {
  const read = (f: string): string => fs.readFileSync(`/proc/${pid}/${f}`, 'utf8');
  try {
    const namespaces = ORDER.filter(([, file]) => {
      let ours: string;
      try {
        ours = fs.readlinkSync(`/proc/self/ns/${file}`);
      } catch {
        return false; // a namespace type this kernel lacks
      }
      // Any other failure is an error: a namespace left out would be joined
      // from the host's side instead.
      return fs.readlinkSync(`/proc/${pid}/ns/${file}`) !== ours;
    }).map(([type]) => type);
    return {
      pid,
      namespaces,
      uidMap: parseIdMap(read('uid_map')),
      gidMap: parseIdMap(read('gid_map')),
      setgroups: read('setgroups').trim() === 'allow',
    };
  } catch (err) {
    // Until execve the container's first process is not dumpable (the
    // runner's child.c): only a caller privileged over its user namespace's
    // parent may open its namespaces.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new UserError(`container process ${pid}`, 'cannot open its namespaces: permission denied (an unprivileged caller can exec only into a started container)');
    }
    throw new UserError(`container process ${pid}`, 'is not running');
  }
}

export function buildExecPlan(proc: Process | undefined, view: ContainerView, annotations: Record<string, string> = {}): ExecPlan {
  const process = planProcess(proc);
  const user = proc?.user ?? {};
  const uid = user.uid ?? 0;
  const gid = user.gid ?? 0;
  if (!covers(view.uidMap, uid)) throw new UserError('process.user.uid', `${uid} is not mapped in the container`);
  if (!covers(view.gidMap, gid)) throw new UserError('process.user.gid', `${gid} is not mapped in the container`);
  const extra = user.additionalGids ?? [];
  let groups: number[] | null = null;
  if (view.setgroups) groups = extra.filter((g) => covers(view.gidMap, g));
  if ((groups ?? []).length !== extra.length) log.debug('process.user.additionalGids: groups the container cannot hold dropped');
  const joins = ORDER.filter(([type]) => view.namespaces.includes(type)).map(([type, file]) => ({
    type,
    flag: CLONE[type],
    path: `/proc/${view.pid}/ns/${file}`,
  }));
  // Decided as for the container (same maps, same ch-run-oci.fakeroot directive).
  const fakeroot = planFakeroot({ annotations } as OciConfig, { uidMap: view.uidMap, gidMap: view.gidMap });
  return { kind: 'exec', wait: false, preserveFds: 0, joins, ids: { uid, gid, groups }, process, fakeroot };
}
