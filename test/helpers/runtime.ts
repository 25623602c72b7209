// Drive the built single executable as a real process, as root or as an
// unprivileged test user with no /etc/subuid range.
import { spawnSync, execFileSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { BUILT, REPO, SHARED, asIds, userIds, type UserIds } from './repo';

export { REPO, SHARED };
export { isAlive, sleep, waitFor } from './procs';
export const EXE = process.env.CH_RUN_OCI_EXE ?? BUILT;
export const TEST_USER = 'chroci-test';

export type As = 'root' | 'user';

/** The unprivileged test user (made by test/setup.ts). */
export function testUser(): UserIds {
  const u = userIds(TEST_USER);
  if (!u) throw new Error(`user ${TEST_USER} is missing: the test set-up (test/setup.ts) makes it`);
  return u;
}

/** A scratch directory owned by whoever runs the test side `as`. */
export function scratch(as: As, prefix = 'chroci-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (as === 'user') {
    const u = testUser();
    fs.chownSync(dir, u.uid, u.gid);
  }
  return dir;
}

/** Recursively hand a tree to the test user. */
export function chownTree(dir: string, as: As): void {
  if (as !== 'user') return;
  const u = testUser();
  execFileSync('chown', ['-R', `${u.uid}:${u.gid}`, dir]);
}

export interface RunOptions {
  as?: As;
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  timeout?: number;
}

/** Wrap argv so it runs as the test user, with a clean environment. */
export function asArgv(as: As, argv: string[], env: Record<string, string>): string[] {
  return asIds(as === 'root' ? null : testUser(), argv, env);
}

export function defaultEnv(as: As): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/bin:/bin' };
  if (as === 'user') env.HOME = testUser().home;
  return env;
}

/**
 * Run ch-run-oci with args; never throws on a non-zero exit. Output goes to
 * files, not pipes: after `create` the container holds the runtime's stdout
 * and stderr, and a pipe would not reach EOF until the container exits.
 */
export function spawnCaptured(argv: string[], o: { cwd?: string; input?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-out-'));
  const out = fs.openSync(path.join(dir, 'stdout'), 'w+');
  const err = fs.openSync(path.join(dir, 'stderr'), 'w+');
  try {
    const r = spawnSync(argv[0], argv.slice(1), {
      cwd: o.cwd ?? os.tmpdir(),
      input: o.input ?? '',
      stdio: ['pipe', out, err],
      timeout: o.timeout ?? 30_000,
    });
    const result = r as unknown as SpawnSyncReturns<string>;
    result.stdout = fs.readFileSync(path.join(dir, 'stdout'), 'utf8');
    result.stderr = fs.readFileSync(path.join(dir, 'stderr'), 'utf8');
    return result;
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function chroci(args: string[], o: RunOptions = {}): SpawnSyncReturns<string> {
  const as = o.as ?? 'root';
  return spawnCaptured(asArgv(as, [EXE, ...args], o.env ?? defaultEnv(as)), o);
}

/** A busybox bundle made by scripts/mkbundle in DIR (root's config, or with `rootless` the rootless one). */
export function bundleAt(dir: string, o: { rootless?: boolean } = {}): string {
  execFileSync('bash', [path.join(REPO, 'scripts', 'mkbundle'), dir, ...(o.rootless ? ['--rootless'] : [])], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return dir;
}

/** A busybox bundle in a scratch directory, EDIT applied to its config, owned by the side that runs it. */
export function makeBundle(as: As, edit?: (config: any) => void): string {
  const dir = bundleAt(scratch(as, 'chroci-bundle-'));
  if (edit) {
    const file = path.join(dir, 'config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    edit(config);
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
  }
  chownTree(dir, as);
  return dir;
}
