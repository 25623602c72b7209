// Where the native runner is. Node cannot unshare a user namespace from its
// multithreaded process, so every container operation execs this small binary.
//
// Inside the single executable the runner is an asset of Node's single
// executable application (node:sea), bytes in memory the kernel cannot exec. We copy it into an
// *unnamed* file (O_TMPFILE): nothing appears in any directory, so no other
// process can find and replace it between "write" and "exec" (the class of bug
// behind runc's CVE-2019-5736). We keep only a read-only descriptor and hand
// out /proc/<our pid>/fd/<n>, which a child we spawn can exec directly.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sea from 'node:sea';
import { UserError, errnoText } from '../errors';

export const RUNNER_NAME = 'ch-run-oci-runner';

/** The runner's SEA asset key (scripts/build). */
export const RUNNER_ASSET = `runner/${RUNNER_NAME}`;

/** Debugging override: exec this runner instead of the embedded one. */
export const RUNNER_ENV = 'CH_RUN_OCI_RUNNER';

// open(2) flags Node does not name. O_TMPFILE includes O_DIRECTORY (x86_64 and
// the generic Linux ABI share these values).
const O_TMPFILE = 0o20200000;

interface Sealed {
  path: string;
  fd: number;
  /** What was written: a later use compares the file with it (memcmp; no node:crypto, which loads OpenSSL). */
  bytes: Buffer;
}

// One copy per process: the read-only fd stays open for the process lifetime
// (the kernel drops the unnamed file when it closes).
let sealed: Sealed | undefined;

/**
 * An exec-able path for the runner. `preferDir` (the state root) is tried
 * after $XDG_RUNTIME_DIR when the embedded runner must be copied out.
 */
export function runnerPath(preferDir?: string): string {
  const override = process.env[RUNNER_ENV];
  if (override) return checkedOverride(override);
  if (sea.isSea()) return embeddedRunner(preferDir);
  return devRunner();
}

function checkedOverride(p: string): string {
  try {
    fs.accessSync(p, fs.constants.X_OK);
  } catch (err) {
    throw new UserError(`${RUNNER_ENV}=${p}`, errnoText(err));
  }
  return path.resolve(p);
}

/**
 * The embedded runner, copied once per process. Later calls compare the
 * copy, read through our read-only fd, with the bytes written: a same-user
 * process could reopen it for writing via /proc, and a changed runner must
 * never be exec'd.
 */
export function embeddedRunner(preferDir?: string, readAsset: () => Buffer = readRunnerAsset): string {
  if (sealed && readAll(sealed.fd).equals(sealed.bytes)) return sealed.path;
  resetRunnerCache();
  let bytes: Buffer;
  try {
    bytes = readAsset();
  } catch (err) {
    throw new UserError(`embedded runner ${RUNNER_ASSET}`, errnoText(err));
  }
  sealed = sealExecutable(bytes, candidateDirs(preferDir));
  return sealed.path;
}

/** The runner's bytes from the executable (a copy: the caller writes and keeps it). */
function readRunnerAsset(): Buffer {
  return Buffer.from(sea.getAsset(RUNNER_ASSET));
}

/** Where an unnamed executable copy may go, in order of preference. */
export function candidateDirs(preferDir?: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [env.XDG_RUNTIME_DIR, preferDir, os.tmpdir(), '/dev/shm'];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of dirs) {
    if (!d || !path.isAbsolute(d) || seen.has(d)) continue;
    seen.add(d);
    out.push(d);
  }
  return out;
}

/**
 * Writes `bytes` into an unnamed file in the first directory that allows it
 * and can exec from it; returns /proc/<pid>/fd/<n> of a read-only fd.
 */
export function sealExecutable(bytes: Buffer, dirs: string[]): Sealed {
  const tried: string[] = [];
  for (const dir of dirs) {
    try {
      return sealIn(bytes, dir);
    } catch (err) {
      tried.push(`${dir}: ${errnoText(err)}`);
    }
  }
  throw new UserError('cannot prepare the embedded runner', tried.join('; ') || 'no candidate directory');
}

function sealIn(bytes: Buffer, dir: string): Sealed {
  const wfd = fs.openSync(dir, O_TMPFILE | fs.constants.O_RDWR, 0o700);
  let rfd: number;
  try {
    writeAll(wfd, bytes);
    fs.fchmodSync(wfd, 0o500); // umask may have dropped bits; nobody needs write
    // Reopen read-only through /proc; the writable fd must be closed before
    // anyone execs the file, or execve fails with ETXTBSY.
    rfd = fs.openSync(`/proc/self/fd/${wfd}`, fs.constants.O_RDONLY);
  } finally {
    fs.closeSync(wfd);
  }
  try {
    // access(X_OK) fails with EACCES on a noexec mount: try the next place.
    fs.accessSync(`/proc/self/fd/${rfd}`, fs.constants.X_OK);
  } catch (err) {
    fs.closeSync(rfd);
    throw err;
  }
  // /proc/<pid>, not /proc/self: the path is exec'd by a child process.
  return { path: `/proc/${process.pid}/fd/${rfd}`, fd: rfd, bytes };
}

function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off, off);
}

function readAll(fd: number): Buffer {
  const size = fs.fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/**
 * In a development tree: <repo>/dist/runner/<name>. The repo root is found by
 * walking up from this file, which is src/runner/ under vitest and
 * dist/bundle/ in the esbuild bundle.
 */
export function devRunner(start: string = __dirname): string {
  const root = findRepoRoot(start);
  const p = path.join(root ?? path.resolve(start, '..', '..'), 'dist', 'runner', RUNNER_NAME);
  try {
    fs.accessSync(p, fs.constants.X_OK);
  } catch {
    throw new UserError(`runner not built (${p})`, 'run npm run build');
  }
  return p;
}

function findRepoRoot(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ch-run-oci') return dir;
    } catch {
      // no package.json here: keep walking up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** For tests: forget the sealed copy (closes its fd). */
export function resetRunnerCache(): void {
  if (sealed) fs.closeSync(sealed.fd);
  sealed = undefined;
}
