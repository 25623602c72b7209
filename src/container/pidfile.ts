// --pid-file: the container (or exec'd) process id, for the caller.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';

/**
 * The pid file is written atomically (a reader never sees an empty file),
 * through a temp name that nobody can predict or plant: created with O_EXCL
 * and O_NOFOLLOW beside the target, then renamed over it. A symlink planted
 * at the target is replaced, never followed: a root caller cannot be made to
 * write through it.
 */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${crypto.randomBytes(8).toString('hex')}.tmp`);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  let made = false;
  try {
    const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    made = true;
    try {
      fs.writeSync(fd, String(pid));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, abs);
  } catch (err) {
    if (made) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* already renamed */
      }
    }
    throw new UserError(`--pid-file ${abs}`, errnoText(err));
  }
}
