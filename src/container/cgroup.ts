// The lifecycle's side of cgroups (src/cgroups does the work): create sets
// the cgroup up before the runner starts (the runner joins it first thing)
// and admits the container process, with its limits, while it is still in
// its set-up; kill --all, delete and ps add the cgroup's processes to the
// ones found by user namespace (processes.ts). Loaded by create, kill and delete only
// for create and for containers that have a cgroup recorded. The verbs that
// exist only with a cgroup (pause, resume, update, events): control.ts.
import { UserError } from '../errors';
import type { OciConfig } from '../spec/types';
import type { ContainerRecord } from '../state/record';
import { isHostRoot, readHost } from '../cgroups/host';
import { applyWrites, cgroupPids, ensureMember, procsFiles, removeCgroup, setUpCgroup, signalAll } from '../cgroups/manager';
import type { CgroupView } from '../cgroups/view';
import type { ManagerChoice } from '../cgroups/paths';
import { limitFields } from '../cgroups/resources';
import { containerProcesses } from './processes';
import { trustedCgroup } from '../cgroups/trust';

export interface CreateCgroup {
  view?: CgroupView;
  /** cgroup.procs files the runner joins. */
  procs: string[];
  /** The container process exists (blocked in its set-up): make sure it is in, then apply the limits. */
  admit(pid: number): void;
  /** A failed create: nothing may stay. */
  remove(): void;
}

/**
 * create: the cgroup, before the runner starts. `save` writes `record`: the
 * first time with the directories about to be made (so that its first write
 * already covers a create killed right after a mkdir), then with the cgroup;
 * at least once in any case.
 */
export function createCgroup(
  config: OciConfig,
  o: { id: string; stateRoot: string; manager: ManagerChoice },
  record: ContainerRecord,
  save: () => void,
): CreateCgroup {
  const host = readHost();
  if (!host) {
    const limits = limitFields(config.linux?.resources);
    if (limits.length) throw new UserError(limits[0], 'cannot be applied: no cgroup file system is mounted');
    save();
    return { procs: [], admit: () => undefined, remove: () => undefined };
  }
  let saved = false;
  const setUp = setUpCgroup(
    host,
    {
      cgroupsPath: config.linux?.cgroupsPath,
      id: o.id,
      stateRoot: o.stateRoot,
      manager: o.manager === 'systemd' ? 'systemd' : 'cgroupfs',
      disabled: o.manager === 'disabled',
      privileged: isHostRoot(),
      resources: config.linux?.resources,
      devices: config.linux?.devices,
    },
    (rec) => {
      if (rec) record.cgroup = rec;
      else delete record.cgroup;
      save();
      saved = true;
    },
  );
  if (!saved) save();
  const rec = setUp.record;
  return {
    view: setUp.view,
    procs: procsFiles(rec),
    admit: (pid) => {
      if (!rec) return;
      ensureMember(rec, pid, host);
      applyWrites(rec, setUp.writes);
    },
    remove: () => {
      if (record.cgroup) removeCgroup(record.cgroup);
    },
  };
}

/** The container's processes: by user namespace (while its init lives) and in its cgroup. */
export function allProcesses(record: ContainerRecord, stateRoot: string): number[] {
  const cg = trustedCgroup(record, stateRoot);
  const pids = containerProcesses(record, stateRoot);
  if (cg) for (const p of cgroupPids(cg)) if (!pids.includes(p)) pids.push(p);
  return pids;
}

/**
 * kill --all with a cgroup: every process in it (frozen meanwhile; cgroup.kill
 * for SIGKILL), also once the init is gone. Processes that moved into user
 * namespaces of their own are still in it: the cgroup is the whole container.
 */
export function signalContainer(record: ContainerRecord, signal: number, stateRoot: string): void {
  const cg = trustedCgroup(record, stateRoot);
  if (cg) signalAll(cg, signal);
}

/** delete: the cgroup goes with the container (what is left in it is killed first). */
export function removeContainerCgroup(record: ContainerRecord, stateRoot: string): void {
  const cg = trustedCgroup(record, stateRoot);
  if (cg) removeCgroup(cg);
}
