// delete: a stopped container is removed; a created one is killed first (it
// never ran the user program, as in runc); a running one only with force.
import { UserError } from '../errors';
import { hookState, hooksOf } from './hooks';
import type { StateStore } from '../state/store';
import { signalContainerProcesses } from './processes';
import { observe, requireStatus } from './transitions';

export async function deleteContainer(store: StateStore, id: string, force: boolean): Promise<void> {
  if (!store.exists(id) || store.foreign(id)) {
    if (force) return;
    throw new UserError(`container "${id}"`, 'does not exist');
  }
  const record = await store.withLock(id, async () => {
    const { record, status } = observe(store, id);
    if (!force) requireStatus('delete', id, status);
    // Every process in the container's user namespace or one below it goes
    // with it, also without a pid namespace (see processes.ts); and its
    // cgroup, with whatever is still in it (processes that outlived the init).
    // If the cgroup cannot go (a process stuck in the kernel), the state stays
    // so that a later delete --force can finish the job.
    // A cgroup record is checked first: a refused one leaves everything as it is.
    if (record.cgroup) (await import('../cgroups/trust')).trustedCgroup(record, store.root);
    signalContainerProcesses(record, 9, { waitMs: 5_000, runnerDir: store.root });
    if (record.cgroup) (await import('./cgroup')).removeContainerCgroup(record, store.root);
    store.remove(id);
    return record;
  });
  // After the container is gone, before delete returns (runtime.md step 13); failures are warnings.
  const poststop = hooksOf(record.hooks, 'poststop');
  if (poststop.length > 0) {
    const { runHooks } = await import('./hook-run');
    await runHooks('poststop', poststop, hookState(record, 'poststop'), record.bundle, store.root);
  }
}
