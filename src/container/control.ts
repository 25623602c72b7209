// The verbs that need the container's cgroup: pause and resume (the
// freezer), update (new limits), events (usage). runc's rules for which
// status each accepts.
import { UserError } from '../errors';
import type { LinuxResources } from '../spec/types';
import type { ContainerRecord } from '../state/record';
import type { StateStore } from '../state/store';
import { freeze, thaw, updateResources } from '../cgroups/manager';
import { cgroupStats, oomKills } from '../cgroups/stats';
import { observe, requireStatus } from './transitions';
import { trustedCgroup } from '../cgroups/trust';

function needCgroup(record: ContainerRecord, verb: string, stateRoot: string): NonNullable<ContainerRecord['cgroup']> {
  if (!record.cgroup)
    throw new UserError(
      `container "${record.id}"`,
      `cannot ${verb}: the container runs without a cgroup of its own (none could be created)`,
    );
  return trustedCgroup(record, stateRoot)!;
}

/** pause: freeze a created or running container (runc allows both). */
export async function pauseContainer(store: StateStore, id: string): Promise<void> {
  await store.withLock(id, () => {
    const { record, status } = observe(store, id);
    requireStatus('pause', id, status);
    freeze(needCgroup(record, 'pause', store.root));
  });
}

export async function resumeContainer(store: StateStore, id: string): Promise<void> {
  await store.withLock(id, () => {
    const { record, status } = observe(store, id);
    requireStatus('resume', id, status);
    thaw(needCgroup(record, 'resume', store.root));
  });
}

/** update: new limits for a live container; recorded so that the next update merges into them. */
export async function updateContainer(store: StateStore, id: string, patch: LinuxResources): Promise<void> {
  await store.withLock(id, () => {
    const { record, status } = observe(store, id);
    requireStatus('update', id, status);
    const cg = needCgroup(record, 'update resources', store.root);
    cg.resources = updateResources(cg, patch);
    store.write(id, record);
  });
}

/** events: runc's "stats" event data, and the OOM kill count (for "oom" events). */
export function containerStats(store: StateStore, id: string): { status: string; stats?: Record<string, unknown>; ooms: bigint } {
  const { record, status } = observe(store, id);
  if (!record.cgroup) return { status, ooms: 0n };
  const cg = trustedCgroup(record, store.root)!;
  return { status, stats: cgroupStats(cg), ooms: oomKills(cg) };
}
