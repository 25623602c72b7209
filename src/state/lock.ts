// One lock per container: a directory beside its state directory
// (`<root>/.<id>.lock`), taken with proper-lockfile. The rule that makes it
// safe against holders killed with SIGKILL is one mechanism, here:
//
//   a lock directory names its holder from birth (`holder-PID-STARTTIME`
//   inside it, put there before the directory appears under its name), and a
//   lock whose holder is dead is taken over by the one waiter that renames
//   that name to its own claim; that waiter then moves the directory away.
//
// A directory that is never empty cannot be replaced by another rename, so no
// one can take a lock that a claimant or a live holder still has. The
// temporary names beside the lock (`.new-` while it is being made, `.gone-`
// while it is being deleted) name their maker too; a waiter deletes those
// whose maker is dead, so a holder killed mid-step leaves nothing for long. A holder
// that is alive but not running (stopped by a signal) keeps its lock: others
// see "busy" after the bounded wait. proper-lockfile's own staleness rule
// (by mtime) is switched off by an age no lock reaches.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Lockfile from 'proper-lockfile';
import * as log from '../log';
import { sleep } from '../sleep';
import { isRunning, pidStartTime } from '../proc';

/** An empty lock directory (not made by this code: ours always name a holder) is taken over after this long. */
const UNNAMED_MS = 2_000;
/** Beyond any lock's life: proper-lockfile never judges a lock by its mtime (and a timer this long still fits setTimeout). */
const NEVER_STALE_MS = 2 ** 31 - 1;

const HOLDER = /^(?:holder|claim)-(\d+)-(\d+)$/;

export class LockBusy extends Error {}

let myStart: string | undefined;

/** This process's pid and start time, as the lock's names carry them (read from /proc once). */
function pidAndStart(): string {
  myStart ??= pidStartTime(process.pid) ?? '0';
  return `${process.pid}-${myStart}`;
}

function me(kind: 'holder' | 'claim'): string {
  return `${kind}-${pidAndStart()}`;
}

let made = 0;

/**
 * A name no other process uses, which names its maker (pid and start time,
 * for sweepTemporaries): then the monotonic clock and a counter. Not
 * crypto.randomBytes: loading node:crypto (OpenSSL) costs a locked verb ~10 %.
 */
function unique(base: string, what: 'new' | 'gone'): string {
  return `${base}.${what}-${pidAndStart()}-${process.hrtime.bigint()}-${++made}`;
}

const TEMPORARY = /^\.(?:new|gone)-(\d+)-(\d+)-\d+-\d+$/;

/** Deletes the temporary names beside the lock at `dir` whose maker is dead (a create SIGKILLed between two steps). */
export function sweepTemporaries(dir: string): void {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(base)) continue;
    const m = TEMPORARY.exec(n.slice(base.length));
    if (!m || isRunning(Number(m[1]), m[2])) continue;
    fs.rmSync(path.join(parent, n), { recursive: true, force: true });
    log.debug(`lock ${dir}: removed ${n}, left by a process that is gone`);
  }
}

/** A callback-style fs call made with its sync twin (no libuv thread pool). */
export function viaSync<A extends unknown[], R>(
  f: (...a: A) => R,
): (...a: [...A, (err: NodeJS.ErrnoException | null, r?: R) => void]) => void {
  return (...a) => {
    const cb = a.pop() as (err: NodeJS.ErrnoException | null, r?: R) => void;
    let r: R;
    try {
      r = f(...(a as unknown as A));
    } catch (err) {
      cb(err as NodeJS.ErrnoException);
      return;
    }
    cb(null, r);
  };
}

/**
 * proper-lockfile's file system, with the two operations that make a lock:
 * mkdir makes the directory with its holder's name inside under a temporary
 * name and renames it into place (it fails, as EEXIST, when a lock is there);
 * rmdir moves the directory away in one rename before deleting it, so a
 * release can never remove a lock that someone else has just taken.
 */
const lockFs = {
  // Only what proper-lockfile calls, not a spread of fs: that reads
  // fs.promises, which loads fs/promises, streams and readline (measured:
  // ~3 M instructions of every locked verb).
  // stat and utimes answer synchronously: proper-lockfile's async calls
  // (its mtime probe after mkdir) would start libuv's thread pool, four
  // threads a locked verb otherwise never needs.
  stat: viaSync(fs.statSync),
  utimes: viaSync(fs.utimesSync),
  realpath: viaSync(fs.realpathSync),
  rmdirSync: fs.rmdirSync,
  mkdir(dir: string, cb: (err: NodeJS.ErrnoException | null) => void): void {
    const tmp = unique(dir, 'new');
    try {
      fs.mkdirSync(tmp, { mode: 0o700 });
      fs.writeFileSync(path.join(tmp, me('holder')), '');
      fs.renameSync(tmp, dir);
      cb(null);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      cb(
        code === 'ENOTEMPTY' || code === 'EEXIST'
          ? Object.assign(new Error('lock exists'), { code: 'EEXIST' })
          : (err as NodeJS.ErrnoException),
      );
    }
  },
  rmdir(dir: string, cb: (err: NodeJS.ErrnoException | null) => void): void {
    moveAway(dir);
    cb(null);
  },
};

/** Renames the lock directory to a unique name and deletes it; a missing one is fine. */
function moveAway(dir: string): boolean {
  const gone = unique(dir, 'gone');
  try {
    fs.renameSync(dir, gone);
  } catch {
    return false;
  }
  fs.rmSync(gone, { recursive: true, force: true });
  return true;
}

/** Takes over the lock at `dir` when its holder is dead; true when it is gone now. */
function breakDead(dir: string): boolean {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return false;
  }
  const named = names.map((n) => ({ n, m: HOLDER.exec(n) })).find((x) => x.m);
  const mine = path.join(dir, me('claim'));
  try {
    if (named) {
      if (isRunning(Number(named.m![1]), named.m![2])) return false;
      // One rename, one winner: the others find the name gone.
      fs.renameSync(path.join(dir, named.n), mine);
    } else {
      if (Date.now() - fs.statSync(dir).mtimeMs < UNNAMED_MS) return false;
      fs.writeFileSync(mine, '', { flag: 'wx' });
    }
  } catch {
    return false;
  }
  const broken = moveAway(dir);
  if (broken) log.debug(`lock ${dir}: its holder is gone; taken over`);
  return broken;
}

export interface LockOptions {
  /** How long to wait for a busy lock before giving up (LockBusy). */
  waitMs: number;
}

/** Waits (bounded) for the lock at `dir` and returns its release. */
export async function acquire(target: string, dir: string, o: LockOptions): Promise<() => Promise<void>> {
  // Loaded here, not at the top: proper-lockfile hooks process signals when
  // loaded, which the hot `state` path (and the startup snapshot) must not pay for.
  const lockfile = require('proper-lockfile') as typeof Lockfile;
  const deadline = Date.now() + o.waitMs;
  let pause = 10;
  sweepTemporaries(dir);
  for (;;) {
    breakDead(dir);
    try {
      return await lockfile.lock(target, {
        lockfilePath: dir,
        realpath: false,
        stale: NEVER_STALE_MS,
        retries: 0,
        fs: lockFs,
        onCompromised: (err) => log.warn(`lock ${dir} was lost: ${err.message}`),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new LockBusy(dir);
    // Jittered, growing pauses so two waiters do not retry in lock-step.
    await sleep(Math.min(left, pause * (0.5 + Math.random())));
    pause = Math.min(pause * 1.5, 200);
  }
}

/** The holder named in a lock directory, if any (for a record not yet written: who is creating it). */
export function holderOf(dir: string): { pid: number; start: string } | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const n of names) {
    const m = HOLDER.exec(n);
    if (m) return { pid: Number(m[1]), start: m[2] };
  }
  return undefined;
}
