// delete: a stopped container is removed; a created one is killed first (it
// never ran the user program, as in runc); a running one only with force.
import { UserError } from '../errors';
import { debug } from '../log';
import { sleepSync } from '../sleep';
import type { ContainerRecord } from '../state/record';
import { isRunning, procStat } from '../state/proc';
import type { StateStore } from '../state/store';
import { containerProcesses } from './processes';
import { killQuietly } from './signals';
import { observe, requireStatus } from './transitions';

export async function deleteContainer(store: StateStore, id: string, force: boolean): Promise<void> {
  if (!store.exists(id)) {
    if (force) return;
    throw new UserError(`container "${id}"`, 'does not exist');
  }
  await store.withLock(id, () => {
    const { record, status } = observe(store, id);
    if (!force) requireStatus('delete', id, status);
    // Processes that outlived the container's pid 1 (no pid namespace) share its
    // user namespace: they are the container's too and go with it.
    const victims = containerProcesses(record);
    for (const pid of victims) killQuietly(pid, 'SIGKILL');
    waitGone(victims, record);
    store.remove(id);
  });
}

/** Wait (bounded) until the killed processes are gone or zombies. */
function waitGone(pids: number[], record: ContainerRecord): void {
  const deadline = Date.now() + 5_000;
  for (const pid of pids) {
    const start = pid === record.pid ? record.pidStartTime : procStat(pid)?.startTime;
    while (start && isRunning(pid, start)) {
      if (Date.now() > deadline) {
        debug(`process ${pid} still alive 5 s after SIGKILL`);
        return;
      }
      sleepSync(2);
    }
  }
}
