// kill: signal the container process (or, with all, every process of it).
import { UserError, errnoText } from '../errors';
import type { StateStore } from '../state/store';
import { signalContainerProcesses } from './processes';
import { observe, requireStatus } from './transitions';

/**
 * With all, a container with a cgroup is signalled through it: every process
 * in it, also once the init is gone (no pid namespace) — as runc does.
 */
export async function killContainer(store: StateStore, id: string, signal: number, all: boolean): Promise<void> {
  const { record, status } = observe(store, id);
  if (all && record.cgroup) return (await import('./cgroup')).signalContainer(record, signal, store.root);
  // With all, a stopped container is no error (runc 1.1 neither): the shim
  // sends `kill --all ID 9` after the init of a container without its own pid
  // namespace has exited, to reach what is left.
  if (all && status === 'stopped') return;
  requireStatus('kill', id, status);
  if (all) return signalContainerProcesses(record, signal, { runnerDir: store.root });
  try {
    process.kill(record.pid!, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw new UserError(`kill ${record.pid}`, errnoText(err));
  }
}
