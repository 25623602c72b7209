// Where things are and how the suites build and run them: the repository,
// shared/ beside it, the built executable, runtimes by name, C helpers, and
// the one way to run a command as another user. Every suite (integration,
// hardening, clients, engines, unit) takes these from here.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

export const REPO = path.resolve(__dirname, '..', '..');
/** shared/ sits beside the repository (in CI too: a fresh clone with shared/ next to it). */
export const SHARED = path.resolve(REPO, '..', 'shared');
/** What `bash scripts/build` makes. */
export const BUILT = path.join(REPO, 'dist', 'ch-run-oci');

/** Where a runtime named without a slash is looked for after PATH (runc and crun live in sbin). */
const RUNTIME_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** A runtime from env RUNTIME: a path, or a name looked up in PATH and the system dirs; default the built executable. */
export function resolveRuntime(value: string | undefined): string {
  if (!value) return BUILT;
  if (value.includes('/')) return path.resolve(value);
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean).concat(RUNTIME_DIRS)) {
    const p = path.join(dir, value);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`RUNTIME=${value}: not found in PATH`);
}

/** Compiles C SOURCES into OUT with the suite's warnings (as errors); `static` for helpers copied into a container. */
export function compileC(out: string, sources: string[], o: { static?: boolean } = {}): string {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync('cc', [...(o.static ? ['-static'] : []), '-O2', '-Wall', '-Wextra', '-Werror', '-o', out, ...sources]);
  return out;
}

/** Bundles the TypeScript driver ENTRY into one plain JS file OUT that any uid can run with node. */
export function bundleTs(entry: string, out: string): string {
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error' });
  fs.chmodSync(out, 0o644);
  return out;
}

export interface Ids {
  uid: number;
  gid: number;
}

export interface UserIds extends Ids {
  home: string;
}

/** A user's ids and home from the passwd database; undefined if there is no such user. */
export function userIds(name: string): UserIds | undefined {
  const f = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout.trim().split(':');
  return f.length < 6 ? undefined : { uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
}

/**
 * argv that runs CMD with exactly ENV, as IDS (null: as we are). setpriv
 * execs in place (unlike runuser, which forks), so a spawned pid is the
 * command's own pid and a signal sent to it reaches the command. The
 * supplementary groups are cleared, or with `initGroups` the user's own
 * (what a login gives; the client tools' users need theirs).
 */
export function asIds(ids: Ids | null, cmd: string[], env: Record<string, string>, o: { initGroups?: boolean } = {}): string[] {
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const run = ['env', '-i', ...envArgs, ...cmd];
  if (!ids) return run;
  return ['setpriv', `--reuid=${ids.uid}`, `--regid=${ids.gid}`, o.initGroups ? '--init-groups' : '--clear-groups', '--', ...run];
}
