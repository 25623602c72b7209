// The state directory is the only truth about a container: one directory per
// id under the state root, holding state.json (and whatever the lifecycle puts
// there, e.g. exec.fifo). Status is never stored; status.ts derives it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import * as log from '../log';
import { checkId } from './id';
import { LockBusy, acquire, holderOf } from './lock';
import { parseRecord, placeholder, type ContainerRecord } from './record';
import { EXEC_FIFO } from './status';

export const STATE_FILE = 'state.json';

export interface StoreOptions {
  /** How long withLock waits for a busy lock before giving up. */
  waitMs?: number;
  /** Test seam: runs after the temp file is written and synced, before the rename. */
  beforeRename?: (tmp: string) => void;
}

let tmpCounter = 0;
const WAIT_MS = 5_000;

export class StateStore {
  private readonly waitMs: number;

  constructor(
    readonly root: string,
    private readonly opts: StoreOptions = {},
  ) {
    this.waitMs = opts.waitMs ?? WAIT_MS;
  }

  /** `<root>/<id>`; the id is checked here so no caller can build a path from a bad one. */
  dir(id: string): string {
    return path.join(this.root, checkId(id));
  }

  /** Reserves the id: an exclusive mkdir, so two `create`s of one id cannot both win. */
  claim(id: string): string {
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`container "${id}"`, 'already exists');
      throw new UserError(`container "${id}"`, `cannot create ${dir}: ${errnoText(err)}`);
    }
    return dir;
  }

  exists(id: string): boolean {
    try {
      return fs.statSync(this.dir(id)).isDirectory();
    } catch {
      return false;
    }
  }

  /**
   * Replaces state.json atomically: a reader sees the old record or the new
   * one, never a mix, even if we die half-way (temp file + fsync + rename + fsync dir).
   */
  write(id: string, record: ContainerRecord): void {
    const dir = this.dir(id);
    const final = path.join(dir, STATE_FILE);
    const tmp = path.join(dir, `.${STATE_FILE}.${process.pid}.${++tmpCounter}.tmp`);
    const data = JSON.stringify(record) + '\n';
    try {
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.writeSync(fd, data);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      this.opts.beforeRename?.(tmp);
      fs.renameSync(tmp, final);
    } catch (err) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // Already renamed or never created.
      }
      if (err instanceof UserError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !this.exists(id)) throw new UserError(`container "${id}"`, 'does not exist');
      throw new UserError(`container "${id}"`, `cannot write ${final}: ${errnoText(err)}`);
    }
    syncDir(dir);
  }

  /**
   * The stored record. A directory without state.json (claimed, first write
   * not yet done) gives a placeholder with no pid and empty strings, which
   * deriveStatus reports as `creating`. The lifecycle should write its first
   * record right after claim() so this window stays tiny.
   */
  read(id: string): ContainerRecord {
    const dir = this.dir(id);
    const file = path.join(dir, STATE_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        if (this.exists(id) && !holdsForeignFiles(dir)) return { ...placeholder(id), ...this.lockHolder(id) };
        if (this.exists(id)) notOurs(dir);
        throw new UserError(`container "${id}"`, 'does not exist');
      }
      throw new UserError(`container "${id}"`, `cannot read ${file}: ${errnoText(err)}`);
    }
    const rec = parseRecord(id, file, text);
    if (!isOurRecord(rec)) {
      notOurs(dir);
      throw new UserError(`container "${id}"`, 'does not exist');
    }
    return rec;
  }

  /**
   * Whether the id names another runtime's state directory. Docker gives
   * every runtime one state root (…/runtime-runc/moby), so runc's and crun's
   * directories sit beside ours: to every verb they are containers that do
   * not exist, and nothing of them is touched.
   */
  foreign(id: string): boolean {
    const dir = this.dir(id);
    const file = path.join(dir, STATE_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return this.exists(id) && holdsForeignFiles(dir);
    }
    try {
      return !isOurRecord(parseRecord(id, file, text));
    } catch {
      return false; // corrupt: ours, and reported as such by read()
    }
  }

  /** Ids of all containers, sorted (lock directories and stray files are not containers). */
  list(): string[] {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new UserError(`state root "${this.root}"`, errnoText(err));
    }
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  }

  /** Removes the container directory and everything in it; removing a missing one is fine. */
  remove(id: string): void {
    const dir = this.dir(id);
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      throw new UserError(`container "${id}"`, `cannot remove ${dir}: ${errnoText(err)}`);
    }
  }

  /**
   * Runs fn while holding the container's lock, so read-modify-write
   * sequences (start, kill, delete) from different processes do not interleave.
   * The lock lives beside the container directory (`<root>/.<id>.lock`), so
   * delete can remove the directory while holding it; a holder killed with
   * SIGKILL is recognised at once (see lock.ts).
   */
  async withLock<T>(id: string, fn: () => T | Promise<T>): Promise<T> {
    const lock = this.lockPath(id);
    let release: () => Promise<void>;
    try {
      release = await acquire(path.join(this.root, id), lock, { waitMs: this.waitMs });
    } catch (err) {
      if (err instanceof LockBusy) throw new UserError(`container "${id}"`, `busy: another ch-run-oci process holds ${lock}`);
      throw new UserError(`container "${id}"`, `cannot lock ${lock}: ${errnoText(err)}`);
    }
    try {
      return await fn();
    } finally {
      try {
        await release();
      } catch (err) {
        // Released already (compromised and taken over); the warning was given then.
        log.debug(`releasing the lock of container "${id}": ${errnoText(err)}`);
      }
    }
  }

  /**
   * For a directory without state.json: the process that holds its lock
   * (create, between claim and its first write). A dead one makes the
   * placeholder "stopped" (deriveStatus), so a killed create is not "creating" forever.
   */
  private lockHolder(id: string): Partial<ContainerRecord> {
    const h = holderOf(this.lockPath(id));
    return h ? { creatorPid: h.pid, creatorStartTime: h.start } : {};
  }

  lockPath(id: string): string {
    return path.join(this.root, `.${checkId(id)}.lock`);
  }
}

/** Makes the rename itself durable; some file systems refuse fsync on a directory, which is harmless. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR on file systems without directory fsync: the rename already happened.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Our record has string bundle, rootfs and created fields; runc's state.json
 * (id, init_process_pid, config, …) has no bundle or rootfs.
 */
function isOurRecord(rec: ContainerRecord): boolean {
  return typeof rec.bundle === 'string' && typeof rec.rootfs === 'string' && typeof rec.created === 'string';
}

/**
 * Without state.json a directory of ours holds at most the temp file of its
 * first write, or (a delete killed half-way) the exec fifo; crun's holds
 * `status` and `config.json`.
 */
function holdsForeignFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((n) => n !== EXEC_FIFO && !/^\.state\.json\.\d+\.\d+\.tmp$/.test(n));
  } catch {
    return false;
  }
}

function notOurs(dir: string): void {
  log.debug(`${dir}: not a ch-run-oci state directory (another runtime's?); skipped`);
}
