// Where container state lives. Every command resolves this, and buildah runs
// `state` every 100 ms, so the usual path costs one stat. podman passes only
// XDG_RUNTIME_DIR to start/kill/delete and `env -i` passes nothing, so the
// choice depends on nothing else from the environment.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import * as log from '../log';

export const ROOT_DEFAULT = '/run/ch-run-oci';
const NAME = 'ch-run-oci';

/**
 * The state root, created (mode 0700) when missing:
 * 1. `--root` when given;
 * 2. euid 0: /run/ch-run-oci;
 * 3. $XDG_RUNTIME_DIR/ch-run-oci when XDG_RUNTIME_DIR is absolute and a directory the caller owns;
 * 4. /tmp/ch-run-oci-<uid>, private to the caller.
 * A root that is not a directory, belongs to someone else or is group/world-writable is refused.
 */
export function resolveStateRoot(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const euid = process.geteuid ? process.geteuid() : 0;
  if (flag !== undefined && flag !== '') return ensureRoot(path.resolve(flag), euid, { parents: true });

  if (euid === 0) {
    // Fallback rule: euid 0 inside a user namespace that does not own /run
    // (rootless buildah runs us as its namespace's root) cannot create
    // /run/ch-run-oci, or sees the real root's one as owned by the overflow
    // uid. Then, and only then, we continue with the unprivileged choices.
    const run = usableDefault(ROOT_DEFAULT, euid);
    if (run) return run;
  }
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg)) {
    const dir = path.join(xdg, NAME);
    if (ownedDirectory(dir, euid) || ownedDirectory(xdg, euid)) return ensureRoot(dir, euid, {});
  }
  // /tmp is shared: never follow a symlink planted under our name. Anyone can
  // make that name first; it is then refused, and the message says the way out.
  return ensureRoot(`/tmp/${NAME}-${euid}`, euid, { noSymlink: true, shared: true });
}

interface EnsureOptions {
  parents?: boolean;
  noSymlink?: boolean;
  /** In a directory others can write (/tmp): a bad root may be someone else's doing. */
  shared?: boolean;
}

const SHARED_HINT = 'set XDG_RUNTIME_DIR to a directory of your own, or pass --root DIR';

/** Checks (and creates when missing) one root; throws a UserError naming it. */
function ensureRoot(dir: string, euid: number, opts: EnsureOptions): string {
  let st = statRoot(dir, opts);
  if (!st) {
    try {
      fs.mkdirSync(dir, { mode: 0o700, recursive: opts.parents === true });
    } catch (err) {
      // Another process may have created it between our stat and mkdir; the checks below decide.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UserError(`state root "${dir}"`, `cannot create: ${errnoText(err)}`);
      }
    }
    st = statRoot(dir, opts);
    if (!st) throw new UserError(`state root "${dir}"`, 'vanished while being created');
  }
  const why = rootProblem(st, euid, opts);
  if (why && opts.shared) {
    const planted = st.isSymbolicLink() || st.uid !== euid ? ' (made by someone else in the shared /tmp, so it is not used)' : '';
    throw new UserError(`state root "${dir}"`, `${why}${planted}; ${SHARED_HINT}`);
  }
  if (why) throw new UserError(`state root "${dir}"`, why);
  return dir;
}

function statRoot(dir: string, opts: EnsureOptions): fs.Stats | undefined {
  try {
    return opts.noSymlink ? fs.lstatSync(dir) : fs.statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`state root "${dir}"`, errnoText(err));
  }
}

function rootProblem(st: fs.Stats, euid: number, opts: EnsureOptions): string | undefined {
  if (opts.noSymlink && st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'not a directory';
  if (st.uid !== euid) return `owned by uid ${st.uid}, not by uid ${euid}`;
  if (st.mode & 0o022) return `group or world writable (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  return undefined;
}

/** /run/ch-run-oci when it is ours or we can create it; undefined when euid 0 is not the real root. */
function usableDefault(dir: string, euid: number): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`state root "${dir}"`, errnoText(err));
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (mkErr) {
      const code = (mkErr as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT') {
        log.debug(`state root "${dir}" cannot be created (${errnoText(mkErr)}); using the unprivileged choices`);
        return undefined;
      }
      if (code !== 'EEXIST') throw new UserError(`state root "${dir}"`, `cannot create: ${errnoText(mkErr)}`);
    }
    return ensureRoot(dir, euid, {});
  }
  if (st.isDirectory() && st.uid !== euid) {
    log.debug(`state root "${dir}" belongs to uid ${st.uid}; using the unprivileged choices`);
    return undefined;
  }
  const why = rootProblem(st, euid, {});
  if (why) throw new UserError(`state root "${dir}"`, why);
  return dir;
}

/** True when `dir` exists as a directory of ours (checking the root itself first keeps the usual path at one stat). */
function ownedDirectory(dir: string, euid: number): boolean {
  try {
    const st = fs.statSync(dir);
    return st.isDirectory() && st.uid === euid;
  } catch {
    return false;
  }
}
