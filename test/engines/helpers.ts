// Talk to the suite's private containerd (ctr) and dockerd (docker), with the
// runtime under test, and gate the scenarios that need a feature ch-run-oci
// does not have yet.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from 'vitest';
export { exited, pidsOf, waitUntil as waitFor } from '../helpers/procs';
import { CTR_NS, DOCKER_CLI, IS_OURS, RUNTIME, RUNTIME_NAME, engineDirs } from './env';

export { IMAGE, IS_CRUN, IS_OURS, RUNTIME, RUNTIME_NAME } from './env';
export const dirs = engineDirs();

export type Result = SpawnSyncReturns<string>;

export interface RunOpts {
  input?: string;
  timeout?: number;
}

function sync(cmd: string, args: string[], o: RunOpts = {}, env: Record<string, string> = {}): Result {
  return spawnSync(cmd, args, {
    encoding: 'utf8',
    input: o.input ?? '',
    timeout: o.timeout ?? 60_000,
    killSignal: 'SIGKILL',
    cwd: '/',
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', ...env },
  });
}

export const ctrArgv = (args: string[]): string[] => ['ctr', '--address', dirs.containerdSock, '-n', CTR_NS, ...args];
export const dockerArgv = (args: string[]): string[] => [DOCKER_CLI, '-H', `unix://${dirs.dockerSock}`, ...args];
const dockerEnv = () => ({ DOCKER_CONFIG: dirs.cliConfig });

/** ctr against our containerd, in the suite's namespace. */
export const ctr = (args: string[], o?: RunOpts): Result => sync('ctr', ctrArgv(args).slice(1), o);

/**
 * `ctr run` with the runtime under test: containerd's runc shim calls it as
 * it calls runc (`--runc-binary`; one state root for all, like a real host).
 */
export const ctrRunArgv = (args: string[]): string[] => ctrArgv(['run', '--runc-binary', RUNTIME, '--runc-root', dirs.runcRoot, ...args]);
export const ctrRun = (args: string[], o?: RunOpts): Result => sync('ctr', ctrRunArgv(args).slice(1), o);

/**
 * Runs ARGV on a terminal of its own (util-linux script): ctr -t and
 * docker -t insist that their own stdin is one. Output has CR LF line ends.
 */
export function onTerminal(argv: string[], o: RunOpts = {}): Result {
  const cmd = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = sync('script', ['-qefc', cmd, '/dev/null'], { timeout: 30_000, ...o }, argv[0] === DOCKER_CLI ? dockerEnv() : {});
  // The terminal's CR LF line ends and script's echo of the end of its input ("^@") are noise here.
  r.stdout = (r.stdout ?? '').replace(/\r/g, '').replace(/\^@/g, '');
  return r;
}

export const docker = (args: string[], o?: RunOpts): Result => sync(DOCKER_CLI, dockerArgv(args).slice(1), o, dockerEnv());

/** `docker run --runtime` the runtime under test (runc is dockerd's built-in one). */
export const dockerRun = (args: string[], o?: RunOpts): Result => docker(['run', '--runtime', RUNTIME_NAME, ...args], o);

/**
 * Docker flags that keep a container within what ch-run-oci has today: the
 * host network (any other gets libnetwork's prestart hook, and sysctls) and
 * no seccomp profile. Scenarios about those use needsFeature().
 */
export const PLAIN = ['--network=host', '--security-opt', 'seccomp=unconfined'];

export function startDocker(args: string[]): ChildProcess {
  return spawn(DOCKER_CLI, dockerArgv(args).slice(1), {
    cwd: '/',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...dockerEnv() },
  });
}

export function startCtr(args: string[]): ChildProcess {
  return spawn('ctr', ctrArgv(args).slice(1), { cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** One block that says what happened, for assertion messages. */
export function show(r: Result): string {
  return `status=${r.status} signal=${r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${(r.stderr ?? '').slice(-3000)}`;
}

/** A unique name per test, so a retry never meets the first try's container. */
let serial = 0;
export function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${++serial}-${Date.now() % 100000}`;
}

/** A directory for bind-mount sources, seen by the daemons (their mount namespace is a copy of ours). */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(dirs.scratch, `${prefix}-`));
}

export function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (b) => (out += b));
  child.stderr?.on('data', (b) => (err += b));
  return { out: () => out, err: () => err };
}

// --- features ch-run-oci does not have yet ----------------------------------
// Each scenario that needs one runs with runc and crun as written, and is
// skipped for ch-run-oci until its feature lands: then set it to true here
// (or try it first with CHROCI_ENGINE_FEATURES=hooks,seccomp,…).
export const FEATURES = {
  /** linux.seccomp (Docker's default profile; ctr --seccomp). Issue 12. */
  seccomp: true,
  /** linux.sysctl (Docker sets net.ipv4.* in its own network namespaces). Issue 12. */
  sysctl: true,
  /** process.terminal + --console-socket (ctr -t, docker -t/-it, exec -t). Issue 13. */
  terminal: true,
  /** hooks.prestart (libnetwork-setkey: every Docker container with its own network namespace). Issue 13. */
  hooks: true,
  /** cgroups: resources, pause/resume, ctr task metrics, docker stats/--memory/--pids-limit. Issue 14. */
  cgroups: true,
  /** kill --all / delete --force reach every process after the init died (docker --pid=host stop). Issue 14. */
  pidHost: true,
};
export type Feature = keyof typeof FEATURES;

const enabledByEnv = new Set((process.env.CHROCI_ENGINE_FEATURES ?? '').split(',').filter(Boolean));

/** Whether the runtime under test has FEATURE (runc and crun have them all). */
export function has(feature: Feature): boolean {
  return !IS_OURS || FEATURES[feature] || enabledByEnv.has(feature);
}

/**
 * A scenario that needs FEATURES: a normal test with runc and crun; for
 * ch-run-oci skipped (its title says which features) until they are enabled.
 */
export function needsFeature(features: Feature | Feature[], title: string, fn: () => unknown | Promise<unknown>, timeout?: number): void {
  const list = Array.isArray(features) ? features : [features];
  const missing = list.filter((f) => !has(f));
  if (missing.length) it.skip(`${title} [needs ${missing.join(', ')}]`, fn, timeout);
  else it(title, fn, timeout);
}
