// cgroup v1 specifics: cpuset's inheritance, the freezer controller.
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import { sleepSync } from '../sleep';
import { readFile, writeFile } from './file';

/**
 * A new cpuset cgroup starts with empty cpus and mems, and no process can
 * join it until both are set: copy the parent's into every cgroup we made,
 * top-down (runc does the same).
 */
export function inheritCpuset(made: string[]): void {
  for (const dir of made) {
    const parent = path.dirname(dir);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if ((readFile(path.join(dir, file)) ?? '').trim() !== '') continue;
      const value = (readFile(path.join(parent, file)) ?? '').trim();
      try {
        writeFile(path.join(dir, file), value);
      } catch (err) {
        throw new UserError(`cgroup ${dir}`, `cannot copy ${file} from the parent: ${errnoText(err)}`);
      }
    }
  }
}

export const FREEZER_STATE = 'freezer.state';

/**
 * Freeze: FREEZING until every task has stopped; a task in the middle of
 * something may hold it there, so re-ask, and now and then thaw and start
 * over (runc's loop). Bounded by time (5 s), not by tries: a busy host
 * slows every step.
 */
export function freeze(dir: string): void {
  const file = path.join(dir, FREEZER_STATE);
  const deadline = Date.now() + 5000;
  for (let i = 1; Date.now() < deadline; i++) {
    writeFile(file, 'FROZEN');
    const state = (readFile(file) ?? '').trim();
    if (state === 'FROZEN') return;
    if (state !== 'FREEZING') throw new UserError(`cgroup ${dir}`, `unexpected freezer state "${state}"`);
    if (i % 100 === 0) {
      writeFile(file, 'THAWED');
      sleepSync(10);
    } else {
      sleepSync(i < 10 ? 0 : 2);
    }
  }
  writeFile(file, 'THAWED');
  throw new UserError(`cgroup ${dir}`, "could not freeze the container's processes within 5 s");
}

export function thaw(dir: string): void {
  writeFile(path.join(dir, FREEZER_STATE), 'THAWED');
}
