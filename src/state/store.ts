// The state directory is the only truth about a container: one directory per
// id under the state root, holding state.json (and whatever the lifecycle puts
// there, e.g. exec.fifo). Status is never stored; status.ts derives it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Lockfile from 'proper-lockfile';
import { UserError, errnoText } from '../errors';
import * as log from '../log';
import { sleep } from '../sleep';
import { checkId } from './id';
import { EXEC_FIFO, isRunning, pidStartTime } from './status';

export const STATE_FILE = 'state.json';

/** What `create` records. Free to grow: extra fields are kept as written. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** The container process as seen by the host; absent until the runner reported it. */
  pid?: number;
  /** Field 22 of /proc/PID/stat when pid was recorded: tells pid reuse apart. */
  pidStartTime?: string;
  /** Absolute bundle path. */
  bundle: string;
  rootfs: string;
  /** RFC 3339. */
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /**
   * The `create` process and its start time, recorded before the container
   * process exists: if create dies before recording pid, status says
   * `stopped` (so delete can clean up) instead of `creating` forever.
   */
  creatorPid?: number;
  creatorStartTime?: string;
  /** Namespace notes the lifecycle keeps (free-form). */
  ns?: Record<string, string>;
  [extra: string]: unknown;
}

export interface StoreOptions {
  /** A lock whose holder stopped refreshing it for this long is taken over (proper-lockfile minimum: 2000). */
  staleMs?: number;
  /** How long withLock waits for a busy lock before giving up. */
  waitMs?: number;
  /** Test seam: runs after the temp file is written and synced, before the rename. */
  beforeRename?: (tmp: string) => void;
}

const STALE_MS = 10_000;
let tmpCounter = 0;
const WAIT_MS = 5_000;

export class StateStore {
  private readonly staleMs: number;
  private readonly waitMs: number;

  constructor(
    readonly root: string,
    private readonly opts: StoreOptions = {},
  ) {
    this.staleMs = opts.staleMs ?? STALE_MS;
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
   * delete can remove the directory while holding it. A holder killed with
   * SIGKILL stops refreshing the lock's mtime; after staleMs it is taken over.
   */
  async withLock<T>(id: string, fn: () => T | Promise<T>): Promise<T> {
    checkId(id);
    const release = await this.acquire(id);
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

  private async acquire(id: string): Promise<() => Promise<void>> {
    // Loaded here, not at the top: proper-lockfile hooks process signals when
    // loaded, which the hot `state` path (and the startup snapshot) must not pay for.
    const lockfile = require('proper-lockfile') as typeof Lockfile;
    const lockfilePath = this.lockPath(id);
    const deadline = Date.now() + this.waitMs;
    let pause = 10;
    for (;;) {
      // A lock whose holder is dead goes first, by the one waiter that claims
      // it; proper-lockfile's own rule for old locks could let two waiters
      // each remove the lock the other has just taken.
      breakDeadLock(lockfilePath);
      try {
        const release = await lockfile.lock(path.join(this.root, id), {
          lockfilePath,
          realpath: false,
          stale: this.staleMs,
          retries: 0,
          onCompromised: (err) => log.warn(`lock of container "${id}" was lost: ${err.message}`),
        });
        // Who holds the lock, inside it: a holder killed with SIGKILL is
        // recognised at once (breakDeadLock) instead of after staleMs.
        const mark = path.join(lockfilePath, `${HOLDER}${process.pid}-${pidStartTime(process.pid) ?? 0}`);
        try {
          fs.writeFileSync(mark, '');
        } catch {
          // Without the mark only the mtime rule recovers the lock: slower, still correct.
        }
        return async () => {
          try {
            fs.unlinkSync(mark);
          } catch {
            // Never written, or taken over.
          }
          await release();
        };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ENOTEMPTY: proper-lockfile found the lock old (its holder stopped
        // refreshing it: stopped by a signal, say) and could not remove it,
        // since a live holder's mark is inside. That is a busy lock too.
        if (code !== 'ELOCKED' && code !== 'ENOTEMPTY') throw new UserError(`container "${id}"`, `cannot lock ${lockfilePath}: ${errnoText(err)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new UserError(`container "${id}"`, `busy: another ch-run-oci process holds ${lockfilePath}`);
      }
      // Jittered, growing pauses so two waiters do not retry in lock-step.
      await sleep(Math.min(left, pause * (0.5 + Math.random())));
      pause = Math.min(pause * 1.5, 200);
    }
  }
}

const HOLDER = 'holder-';
const MARKLESS_MS = 2_000;

/** The live-or-dead holder of a lock, from its mark: `holder-PID-STARTTIME`. */
function holderOf(lockfilePath: string): { pid: number; start: string; mark: string } | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(lockfilePath);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const m = /^holder-(\d+)-(\d+)$/.exec(name);
    if (m) return { pid: Number(m[1]), start: m[2], mark: path.join(lockfilePath, name) };
  }
  return undefined;
}

/**
 * A lock whose holder died (SIGKILL: no release) is removed at once, so the
 * next try takes it. Only the waiter whose unlink of the dead holder's mark
 * succeeds may remove it: two waiters cannot both break one lock, and a new
 * holder's fresh lock has a different mark. That waiter renames the lock
 * directory away rather than letting proper-lockfile's stale rule remove it:
 * meanwhile the others see a fresh, markless lock and wait, so no one removes
 * a lock that someone else has just taken, and the next mkdir has one winner.
 */
function breakDeadLock(lockfilePath: string): boolean {
  const h = holderOf(lockfilePath);
  if (!h) {
    // No mark: the holder died between proper-lockfile's mkdir and writing
    // its mark, or between removing it and the rmdir (a live holder spends
    // well under a millisecond there). Such a lock is stale after MARKLESS_MS.
    try {
      if (Date.now() - fs.statSync(lockfilePath).mtimeMs < MARKLESS_MS || holderOf(lockfilePath)) return false;
      fs.utimesSync(lockfilePath, 0, 0);
    } catch {
      return false;
    }
    return true;
  }
  if (isRunning(h.pid, h.start)) return false;
  // Unique, so a leftover of a waiter killed right after its rename is never in the way.
  const dead = `${lockfilePath}.dead-${process.pid}-${Date.now()}`;
  try {
    fs.unlinkSync(h.mark);
    fs.renameSync(lockfilePath, dead);
  } catch {
    return false;
  }
  fs.rmSync(dead, { recursive: true, force: true });
  log.debug(`lock ${lockfilePath}: holder ${h.pid} is gone; taking it over`);
  return true;
}

function placeholder(id: string): ContainerRecord {
  return { ociVersion: '', id, bundle: '', rootfs: '', created: '', owner: '', annotations: {} };
}

/**
 * Our record has string bundle, rootfs and created fields and the id of its
 * directory; runc's state.json (id, init_process_pid, config, …) has no
 * bundle or rootfs.
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

function parseRecord(id: string, file: string, text: string): ContainerRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const rec = value as ContainerRecord | undefined;
  if (!rec || typeof rec !== 'object' || Array.isArray(rec) || typeof rec.id !== 'string') {
    throw new UserError(`container "${id}"`, `state file ${file} is corrupt (not a state record)`);
  }
  if (!rec.annotations || typeof rec.annotations !== 'object') rec.annotations = {};
  return rec;
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
