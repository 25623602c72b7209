// start: release the process waiting on the exec fifo; returns at once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HookError, UserError, errnoText } from '../errors';
import * as log from '../log';
import type { Hook } from '../spec/types';
import { hookState, hooksOf, startWaitMs } from './hooks';
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
  const poststart: Hook[] = [];
  const record = await store.withLock(id, () => {
    const { record, status, dir } = observe(store, id);
    requireStatus('start', id, status);
    poststart.push(...hooksOf(record.hooks, 'poststart'));
    // poststart hooks run after the program started (runtime.md step 9): then
    // it may not wait for our exit.
    releaseFifo(path.join(dir, EXEC_FIFO), record, Boolean(o.onExit) && poststart.length === 0);
    return record;
  });
  if (poststart.length > 0) {
    const { runHooks } = await import('./hook-run');
    await runHooks('poststart', poststart, hookState(record, 'poststart'), record.bundle, store.root);
  }
}

/**
 * Open the fifo for reading without blocking (a blocking open would hang
 * forever if the container died), then wait for the container's answer, which
 * it writes once our open released its own blocking open for writing: lines,
 * the output of its startContainer hooks (`hook-out LABEL TEXT`), then `0`
 * (it goes on) or `error TEXT` (a hook failed; it exits). The container then
 * runs its program when our end is closed: at once, or with keepOpen when
 * this process exits.
 */
function releaseFifo(fifo: string, record: ContainerRecord, keepOpen: boolean): void {
  let fd: number;
  try {
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw new UserError(`start: ${fifo}`, errnoText(err));
  }
  try {
    const buf = Buffer.alloc(65536);
    let text = '';
    const bound = startWaitMs(record.hooks, 10_000);
    const deadline = Date.now() + bound;
    for (let wait = 0; ; wait = Math.min(wait + 1, 10)) {
      // Liveness first, then the read: a program that runs and exits at once
      // (echo hi) may be gone by now, but then its byte is already in the
      // fifo and this read gets it. The other order reported such a
      // container as "exited before it was started" (seen under load).
      const alive = isRunning(record.pid!, record.pidStartTime!);
      let n = 0;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw new UserError(`start: ${fifo}`, errnoText(err));
      }
      if (n > 0) {
        text += buf.toString('utf8', 0, n);
        const answer = takeAnswer(text);
        text = answer.rest;
        if (answer.done) break;
        wait = 0;
        continue;
      }
      if (!alive) {
        throw new UserError(`container "${record.id}"`, 'container process exited before it was started');
      }
      if (Date.now() > deadline) {
        throw new UserError(`container "${record.id}"`, `container process did not answer start within ${bound / 1000} s`);
      }
      sleepSync(wait);
    }
    fs.unlinkSync(fifo);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!keepOpen) fs.closeSync(fd);
}

/** Handles the complete lines of the container's answer; done at `0`, a UserError at `error TEXT`. */
function takeAnswer(text: string): { done: boolean; rest: string } {
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
    const line = text.slice(0, nl);
    text = text.slice(nl + 1);
    if (line === '0') return { done: true, rest: text };
    if (line.startsWith('error ')) throw new HookError(line.slice(6));
    if (line.startsWith('hook-out ')) {
      const rest = line.slice(9);
      const sp = rest.indexOf(' ');
      log.hookOutput(rest.slice(0, sp), rest.slice(sp + 1) + '\n');
    }
  }
  return { done: false, rest: text };
}
