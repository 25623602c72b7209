// The plan for running one more process in a running container (`exec`): join
// every namespace of the container process that differs from ours (its user
// namespace first, which gives us the capabilities to join the others, its
// mount namespace last, which puts us at its root), then the usual process
// settings. Nothing is created, nothing is mounted.
import * as fs from 'node:fs';
import { UserError } from '../errors';
import * as log from '../log';
import { procStat } from '../proc';
import type { NamespaceType, Process } from '../spec/types';
import { NAMESPACES, type ExecPlan, type IdRange } from '../runner/plan';
import { covers, parseIdMap } from './idmap';
import { planProcess } from './process';
import { planFakeroot } from './fakeroot';
import { planProfile } from './profile';
import { planAffinity, planMemoryPolicy } from './sched';
import { planTerminal } from './terminal';
import type { Linux, OciConfig, Seccomp } from '../spec/types';

/** What we learn about the running container from /proc/PID. */
export interface ContainerView {
  pid: number;
  /** Field 22 of /proc/PID/stat: the runner checks it again right before joining. */
  startTime: string;
  /** Namespaces of the container process that are not ours. */
  namespaces: NamespaceType[];
  uidMap: IdRange[];
  gidMap: IdRange[];
  /** /proc/PID/setgroups says "allow". */
  setgroups: boolean;
}

/**
 * The container process `pid` (recorded with `startTime`) as /proc shows it.
 * state.json may be stale (a reused pid) or edited (an unprivileged caller's
 * state root is its own to write): the start time must match, and a process
 * in our own user or mount namespace is no container, whatever the record says.
 */
export function readContainerView(pid: number, startTime?: string): ContainerView {
  const read = (f: string): string => fs.readFileSync(`/proc/${pid}/${f}`, 'utf8');
  const gone = (): UserError => new UserError(`container process ${pid}`, 'is not running');
  const now = procStat(pid)?.startTime;
  if (now === undefined || (startTime !== undefined && now !== startTime)) throw gone();
  let view: ContainerView;
  try {
    const namespaces = NAMESPACES.filter((n) => {
      let ours: string;
      try {
        ours = fs.readlinkSync(`/proc/self/ns/${n.proc}`);
      } catch {
        return false; // a namespace type this kernel lacks
      }
      // Any other failure is an error: a namespace left out would be joined
      // from the host's side instead.
      return fs.readlinkSync(`/proc/${pid}/ns/${n.proc}`) !== ours;
    }).map((n) => n.type);
    view = {
      pid,
      startTime: now,
      namespaces,
      uidMap: parseIdMap(read('uid_map')),
      gidMap: parseIdMap(read('gid_map')),
      setgroups: read('setgroups').trim() === 'allow',
    };
  } catch (err) {
    // Until execve the container's first process is not dumpable (the
    // runner's child.c): only a caller privileged over its user namespace's
    // parent may open its namespaces.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new UserError(
        `container process ${pid}`,
        'cannot open its namespaces: permission denied (an unprivileged caller can exec only into a started container)',
      );
    }
    throw gone();
  }
  // What we read may be of a process that took the pid meanwhile.
  if (procStat(pid)?.startTime !== now) throw gone();
  checkIsContainer(view);
  return view;
}

/** Every container has its own user and mount namespace (plan.ts); a process sharing ours is not one. */
export function checkIsContainer(view: Pick<ContainerView, 'pid' | 'namespaces'>): void {
  for (const type of ['user', 'mount'] as const) {
    if (!view.namespaces.includes(type)) {
      throw new UserError(
        `container process ${view.pid}`,
        `is in our own ${type} namespace: not a container (state.json names another process)`,
      );
    }
  }
}

export interface ExecContext {
  /** The container's annotations: the same ch-run-oci.fakeroot decision as its own process. */
  annotations?: Record<string, string>;
  /** The container's linux.seccomp (runc applies it to exec'd processes too). */
  seccomp?: Seccomp;
  /** The container's session keyring, joined by name (undefined: the caller's is kept). */
  keyring?: string;
  /** The container's cgroup.procs files: the process joins its cgroups (its limits; kill --all finds it). */
  cgroupProcs?: string[];
  /** The container's linux.memoryPolicy (its processes all get it). */
  memoryPolicy?: Linux['memoryPolicy'];
  /** Wait for the process and report its status (exec without --detach). */
  wait: boolean;
  preserveFds: number;
  /** --console-socket (checked by checkTerminal): gets the pty's master. */
  consoleSocket?: string;
}

export function buildExecPlan(proc: Process | undefined, view: ContainerView, ctx: ExecContext): ExecPlan {
  const process = planProcess(proc);
  const user = proc?.user ?? {};
  const uid = user.uid ?? 0;
  const gid = user.gid ?? 0;
  if (!covers(view.uidMap, uid)) throw new UserError('process.user.uid', `${uid} is not mapped in the container`);
  if (!covers(view.gidMap, gid)) throw new UserError('process.user.gid', `${gid} is not mapped in the container`);
  const extra = user.additionalGids ?? [];
  let groups: number[] | null = null;
  if (view.setgroups) groups = extra.filter((g) => covers(view.gidMap, g));
  if ((groups ?? []).length !== extra.length) log.debug('process.user.additionalGids: groups the container cannot hold dropped');
  const joins = NAMESPACES.filter((n) => view.namespaces.includes(n.type)).map((n) => ({
    type: n.type,
    flag: n.clone,
    path: `/proc/${view.pid}/ns/${n.proc}`,
  }));
  // Decided as for the container (same maps, same ch-run-oci.fakeroot directive).
  const fakeroot = planFakeroot({ annotations: ctx.annotations ?? {} } as OciConfig, { uidMap: view.uidMap, gidMap: view.gidMap });
  const profile = planProfile(ctx.seccomp);
  const cpus = planAffinity(proc?.execCPUAffinity);
  return {
    kind: 'exec',
    target: { pid: view.pid, startTime: view.startTime },
    wait: ctx.wait,
    preserveFds: ctx.preserveFds,
    cgroupProcs: ctx.cgroupProcs,
    joins,
    ids: { uid, gid, groups },
    process,
    fakeroot,
    profile,
    keyring: ctx.keyring,
    cpusInitial: cpus.initial,
    cpusFinal: cpus.final,
    memoryPolicy: planMemoryPolicy(ctx.memoryPolicy),
    terminal: planTerminal(proc, ctx.consoleSocket, false),
  };
}
