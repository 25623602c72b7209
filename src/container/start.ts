// start: release the process waiting on the exec fifo; returns at once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import { sleepSync } from '../sleep';
import type { ContainerRecord } from '../state/record';
import { isRunning } from '../proc';
import { EXEC_FIFO } from '../state/status';
import type { StateStore } from '../state/store';
import { observe, requireStatus } from './transitions';

/**
 * With onExit, the user program begins only when this process has exited:
 * the container waits for the fifo's last reader to go, and the kernel
 * closes our end at exit. buildah installs its SIGTERM handler only after
 * `start` returns; a signal in between would kill buildah and orphan a
 * running container, so the program must not run before start has returned.
 */
export async function startContainer(store: StateStore, id: string, o: { onExit?: boolean } = {}): Promise<void> {
  await store.withLock(id, () => {
    const { record, status, dir } = observe(store, id);
    requireStatus('start', id, status);
    releaseFifo(path.join(dir, EXEC_FIFO), record, Boolean(o.onExit));
  });
}

/**
 * Open the fifo for reading without blocking (a blocking open would hang
 * forever if the container died), then wait for the one byte the container
 * writes once our open released its own blocking open for writing. The
 * container then runs its program when our end is closed: at once, or with
 * keepOpen when this process exits.
 */
function releaseFifo(fifo: string, record: ContainerRecord, keepOpen: boolean): void {
  let fd: number;
  try {
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw new UserError(`start: ${fifo}`, errnoText(err));
  }
  try {
    const byte = Buffer.alloc(1);
    const deadline = Date.now() + 10_000;
    for (let wait = 0; ; wait = Math.min(wait + 1, 10)) {
      // Liveness first, then the read: a program that runs and exits at once
      // (echo hi) may be gone by now, but then its byte is already in the
      // fifo and this read gets it. The other order reported such a
      // container as "exited before it was started" (seen under load).
      const alive = isRunning(record.pid!, record.pidStartTime!);
      let n = 0;
      try {
        n = fs.readSync(fd, byte, 0, 1, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw new UserError(`start: ${fifo}`, errnoText(err));
      }
      if (n === 1) break;
      if (!alive) {
        throw new UserError(`container "${record.id}"`, 'container process exited before it was started');
      }
      if (Date.now() > deadline) throw new UserError(`container "${record.id}"`, 'container process did not answer start within 10 s');
      sleepSync(wait);
    }
    fs.unlinkSync(fifo);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!keepOpen) fs.closeSync(fd);
}
