// exec: one more process in a running container. Nothing is created: the
// runner joins the container process's namespaces (user first) and execs.
import { UserError } from '../errors';
import type { Linux, Process, Seccomp } from '../spec/types';
import type { StateStore } from '../state/store';
import { writePidFile } from './pidfile';
import { observe, requireStatus } from './transitions';
import { forwardSignals } from './signals';
import { checkTerminal } from './terminal';

export interface ExecOptions {
  detach: boolean;
  pidFile?: string;
  preserveFds: number;
  consoleSocket?: string;
}

/** Runs `proc` in container `id`; resolves with its exit status (0 when detached). */
export async function execInContainer(store: StateStore, id: string, proc: Process, o: ExecOptions): Promise<number> {
  const { buildExecPlan, readContainerView } = await import('./exec-plan');
  const { launchRunner } = await import('../runner/launch');
  const { record, status } = observe(store, id);
  requireStatus('exec', id, status);
  checkTerminal(proc.terminal === true, o.detach, o.consoleSocket);
  const view = readContainerView(record.pid!, record.pidStartTime);
  // The process joins the container's cgroups (its limits, and kill --all finds it).
  const cg = record.cgroup ? (await import('../cgroups/trust')).trustedCgroup(record, store.root) : undefined;
  const cgroupProcs = cg ? (await import('../cgroups/manager')).procsFiles(cg) : undefined;
  const plan = buildExecPlan(proc, view, {
    annotations: record.annotations,
    seccomp: record.seccomp as Seccomp | undefined,
    keyring: record.keyring,
    memoryPolicy: record.memoryPolicy as Linux['memoryPolicy'],
    cgroupProcs,
    wait: !o.detach,
    preserveFds: o.preserveFds,
    consoleSocket: o.consoleSocket,
  });
  const launched = await launchRunner(plan, { runnerDir: store.root });
  if (o.pidFile) writePidFile(o.pidFile, launched.pid);
  if (o.detach) return 0;
  const stopForwarding = forwardSignals(launched.pid);
  try {
    return await launched.exited!;
  } finally {
    stopForwarding();
  }
}

/** The process of `exec ID CMD…`: the container's own process with these changes (as runc does). */
export function execProcessFromArgs(
  base: Process | undefined,
  o: {
    args: string[];
    cwd?: string;
    env: string[];
    user?: string;
    additionalGids: number[];
    noNewPrivs: boolean;
    caps: string[];
    tty?: boolean;
  },
): Process {
  if (o.args.length === 0) throw new UserError('exec', 'a command or --process FILE is required');
  const p: Process = JSON.parse(JSON.stringify(base ?? { cwd: '/' }));
  p.args = o.args;
  // runc: -t/--tty decides, whatever the container's own process had.
  p.terminal = o.tty === true;
  if (o.cwd) p.cwd = o.cwd;
  p.env = mergeEnv(p.env ?? [], o.env);
  if (o.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
    if (!m) throw new UserError(`--user "${o.user}"`, 'must be UID or UID:GID (numbers)');
    p.user = { ...(p.user ?? { uid: 0, gid: 0 }), uid: Number(m[1]), gid: m[2] === undefined ? (p.user?.gid ?? 0) : Number(m[2]) };
  }
  if (o.additionalGids.length) p.user = { ...(p.user ?? { uid: 0, gid: 0 }), additionalGids: o.additionalGids };
  if (o.noNewPrivs) p.noNewPrivileges = true;
  if (o.caps.length) {
    const c = { ...(p.capabilities ?? {}) };
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) c[set] = [...new Set([...(c[set] ?? []), ...o.caps])];
    p.capabilities = c;
  }
  return p;
}

function mergeEnv(env: string[], extra: string[]): string[] {
  const out = new Map(env.map((e) => [e.split('=')[0], e]));
  for (const e of extra) {
    if (!e.includes('=')) throw new UserError(`--env "${e}"`, 'must be NAME=VALUE');
    out.set(e.split('=')[0], e);
  }
  return [...out.values()];
}
