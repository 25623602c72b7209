// Drive the real buildah and podman with the runtime under test, as root and
// as the two test users made by scripts/setup-clients.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { asIds, resolveRuntime, userIds, type UserIds } from '../helpers/repo';

export { exited, pidsOf, waitUntil as waitFor } from '../helpers/procs';

/** The runtime: env RUNTIME, a path or a name looked up in PATH; default the built executable. */
export const RUNTIME = resolveRuntime(process.env.RUNTIME);
/** crun is the control run: some expectations differ on purpose and are marked with it. */
export const IS_CRUN = path.basename(RUNTIME) === 'crun';

export const BUSYBOX = 'localhost/chroci-busybox';
export const DEBIAN = 'localhost/chroci-debian';

/** root, a user with /etc/subuid ranges, a user without. */
export type Who = 'root' | 'chroci-sub' | 'chroci-test';
export const WHO: Who[] = ['root', 'chroci-sub', 'chroci-test'];

const idCache = new Map<Who, UserIds>();
export function ids(who: Who): UserIds {
  let v = idCache.get(who);
  if (!v) {
    v = userIds(who);
    if (!v) throw new Error(`user ${who} is missing: run scripts/setup-clients`);
    idCache.set(who, v);
  }
  return v;
}

/** The clean environment a login would give (no logind here: XDG_RUNTIME_DIR by hand). */
export function envFor(who: Who, extra: Record<string, string> = {}): Record<string, string> {
  const u = ids(who);
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: u.home,
    USER: who,
    LOGNAME: who,
  };
  if (who !== 'root') env.XDG_RUNTIME_DIR = `/run/user/${u.uid}`;
  return { ...env, ...extra };
}

/** argv that runs CMD as WHO with a clean environment and WHO's own groups (a spawned pid is the client's own). */
export function asWho(who: Who, cmd: string[], extraEnv: Record<string, string> = {}): string[] {
  return asIds(who === 'root' ? null : ids(who), cmd, envFor(who, extraEnv), { initGroups: true });
}

export interface RunOpts {
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeout?: number;
}

export type Result = SpawnSyncReturns<string>;

/** Runs CMD as WHO; never throws on a non-zero status. */
export function run(who: Who, cmd: string[], o: RunOpts = {}): Result {
  const argv = asWho(who, cmd, o.env);
  return spawnSync(argv[0], argv.slice(1), {
    cwd: o.cwd ?? '/',
    encoding: 'utf8',
    input: o.input ?? '',
    timeout: o.timeout ?? 60_000,
    killSignal: 'SIGKILL',
  });
}

export function start(who: Who, cmd: string[], o: RunOpts = {}): ChildProcess {
  const argv = asWho(who, cmd, o.env);
  return spawn(argv[0], argv.slice(1), { cwd: o.cwd ?? '/', stdio: ['pipe', 'pipe', 'pipe'] });
}

export const podman = (who: Who, args: string[], o?: RunOpts): Result => run(who, ['podman', '--runtime', RUNTIME, ...args], o);

/** Every buildah verb that runs a container takes --runtime (it is not a global flag). */
export const buildah = (who: Who, args: string[], o?: RunOpts): Result => run(who, ['buildah', ...args], o);

/** One line that says what happened, for assertion messages. */
export function show(r: Result): string {
  // buildah as root warns about root's missing subuid range on every call: noise.
  const err = (r.stderr ?? '')
    .split('\n')
    .filter((l) => !/level=warning msg=".*(ID mappings|ranges set aside)/.test(l))
    .join('\n');
  return `status=${r.status} signal=${r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${err.slice(-4000)}`;
}

/** A scratch directory owned by WHO, under /var/tmp (buildah's default TMPDIR too). */
export function scratch(who: Who, prefix = 'chroci-clients-'): string {
  const dir = fs.mkdtempSync(path.join('/var/tmp', prefix));
  const u = ids(who);
  fs.chownSync(dir, u.uid, u.gid);
  return dir;
}

export function writeAs(who: Who, file: string, text: string): void {
  fs.writeFileSync(file, text);
  const u = ids(who);
  fs.chownSync(file, u.uid, u.gid);
}

/**
 * Runtime state entries whose name passes KEEP, in every place crun and
 * ch-run-oci keep it: the roots for root, for the user (XDG_RUNTIME_DIR), and
 * for the user's namespace root inside rootless buildah (the /tmp fallback).
 */
export function runtimeStates(who: Who, keep: (name: string) => boolean): string[] {
  const u = ids(who);
  const roots = [
    '/run/crun',
    '/run/ch-run-oci',
    `/run/user/${u.uid}/crun`,
    `/run/user/${u.uid}/ch-run-oci`,
    '/tmp/ch-run-oci-0',
    `/tmp/ch-run-oci-${u.uid}`,
  ];
  const found: string[] = [];
  for (const r of roots) {
    let entries: string[];
    try {
      entries = fs.readdirSync(r);
    } catch {
      continue;
    }
    for (const e of entries) if (keep(e)) found.push(path.join(r, e));
  }
  return found.sort();
}

/** State of buildah's containers (all named buildah-…). */
export const buildahStates = (who: Who): string[] => runtimeStates(who, (n) => n.startsWith('buildah-'));

/** Whether PID descends from ANCESTOR (by PPid chain); other sessions may run the same command. */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === ancestor) return true;
    try {
      const m = /^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      p = m ? Number(m[1]) : 0;
    } catch {
      return false;
    }
  }
  return false;
}
