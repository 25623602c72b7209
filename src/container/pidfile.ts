// --pid-file: the container (or exec'd) process id, for the caller.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';

/**
 * The pid file is written atomically (a reader never sees an empty file),
 * through a temp name beside the target, created with O_EXCL and O_NOFOLLOW
 * and then renamed over it: nothing planted there is ever written through. A
 * name someone planted first is skipped for another (a few tries), so
 * guessing the names cannot block the write either. A symlink planted at the
 * target is replaced, never followed: a root caller cannot be made to write
 * through it. The names are not node:crypto's (loading OpenSSL costs every
 * create ~10 M instructions): O_EXCL, not secrecy, is what makes them safe.
 */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  let made = false;
  let tmp = '';
  try {
    let fd = -1;
    for (let tries = 0; fd < 0; tries++) {
      tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${tempSuffix()}.tmp`);
      try {
        fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 16) throw err;
      }
    }
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

/** pid, clock and a random part: unique per process and call, and not worth guessing (see above). */
function tempSuffix(): string {
  const r = Math.floor(Math.random() * 2 ** 48).toString(16);
  return `${process.pid}-${process.hrtime.bigint().toString(16)}-${r}`;
}
