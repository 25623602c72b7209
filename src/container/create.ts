// create (runtime-spec runtime.md, runc's create/start contract): everything
// is set up; the user program waits on the exec fifo for start. The state
// directory is the only truth; a failed create leaves nothing behind.
import type { ManagerChoice } from '../cgroups/paths';
import { HookError, UserError } from '../errors';
import { debug } from '../log';
import { placeholder, type ContainerRecord } from '../state/record';
import { hookState, hooksOf } from './hooks';
import { pidStartTime, procStat } from '../proc';
import type { StateStore } from '../state/store';
import { ownerName } from './passwd';
import { writePidFile } from './pidfile';
import { killQuietly } from './signals';
import { checkTerminal } from './terminal';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  /** run: keep the runner as a subreaper and report the exit status. */
  wait: boolean;
  /** --no-pivot: move-mount + chroot instead of pivot_root. */
  noPivot?: boolean;
  /** --no-new-keyring: keep the caller's session keyring instead of one named after the id. */
  noNewKeyring?: boolean;
  /** --systemd-cgroup / --cgroup-manager (default cgroupfs). */
  cgroupManager?: ManagerChoice;
}

export interface Created {
  pid: number;
  exited?: Promise<number>;
}

export async function createContainer(store: StateStore, o: CreateOptions): Promise<Created> {
  // Loaded here, not at the top: only create/run need the validators and the runner.
  const { prepareBundle, planContainer } = await import('./prepare');
  const { launchRunner } = await import('../runner/launch');
  const { createCgroup } = await import('./cgroup');

  const prepared = prepareBundle(o.bundle);
  const { bundle, config, rootfs } = prepared;
  // Before anything exists: runc's rules for a terminal and a console socket.
  checkTerminal(config.process?.terminal === true, !o.wait, o.consoleSocket);
  const dir = store.claim(o.id);
  let pid: number | undefined;
  let cgroup: { remove(): void } | undefined;
  try {
    return await store.withLock(o.id, async () => {
      const record: ContainerRecord = {
        ociVersion: config.ociVersion,
        id: o.id,
        bundle,
        rootfs,
        created: new Date().toISOString(),
        owner: ownerName(),
        annotations: config.annotations ?? {},
        // exec's args form starts from the container's own process (as runc's does).
        process: config.process,
        // exec's processes get the container's seccomp profile (as runc's do).
        seccomp: config.linux?.seccomp,
        // and its memory policy.
        memoryPolicy: config.linux?.memoryPolicy,
        // start runs the startContainer bound and the poststart hooks, delete the poststop ones, from here.
        ...(config.hooks ? { hooks: config.hooks } : {}),
        // exec joins the same session keyring (absent: the caller's is kept).
        ...(o.noNewKeyring ? {} : { keyring: o.id }),
        // Until the container pid is known, status follows this process: a
        // create killed half-way then shows "stopped" and delete cleans up.
        creatorPid: process.pid,
        creatorStartTime: pidStartTime(process.pid),
      };
      // The first write of the record: the cgroup is made (and recorded) before
      // the runner starts, whose C1 joins it first thing.
      const cg = (cgroup = createCgroup(config, { id: o.id, stateRoot: store.root, manager: o.cgroupManager ?? 'cgroupfs' }, record, () =>
        store.write(o.id, record),
      ));
      const plan = planContainer(prepared, {
        stateDir: dir,
        wait: o.wait,
        preserveFds: o.preserveFds,
        noPivot: o.noPivot,
        keyring: record.keyring,
        cgroup: cg.view,
        cgroupProcs: cg.procs,
        consoleSocket: o.consoleSocket,
      });
      const launched = await launchRunner(plan, {
        runnerDir: store.root,
        // Recorded before the runner lets the container go: a create killed
        // at any point leaves either no container process or a recorded one.
        onPid: (p, userNs) => {
          pid = p;
          const stat = procStat(p);
          if (!stat) throw new UserError('create', `container process ${p} exited during set-up`);
          record.pid = p;
          record.pidStartTime = stat.startTime;
          record.ns = { user: userNs === undefined ? '' : `user:[${userNs}]` };
          store.write(o.id, record);
          // Still in its set-up, before the exec fifo: limits hold before the program runs.
          cg.admit(p);
        },
        // The hook pause: prestart then createRuntime, as the caller, while C2
        // waits before pivot_root; then C2 runs createContainer itself.
        onHooks: async (p) => {
          const { runHooks } = await import('./hook-run');
          for (const kind of ['prestart', 'createRuntime'] as const) {
            await runHooks(kind, hooksOf(config.hooks, kind), hookState(record, kind, p), bundle, store.root);
          }
          return [hookState(record, 'createContainer', p), hookState(record, 'startContainer', p)].map((s) => JSON.stringify(s)).join('\n');
        },
      });
      pid = launched.pid;
      if (o.pidFile) writePidFile(o.pidFile, pid);
      return launched;
    });
  } catch (err) {
    // A failed create leaves nothing behind: no process, no cgroup, no state directory.
    if (pid !== undefined) killQuietly(pid, 'SIGKILL');
    try {
      cgroup?.remove();
    } catch (e) {
      // A process stuck in the kernel keeps its cgroup busy: the state stays
      // (status stopped) so that delete --force can remove the cgroup later.
      debug(`create failed; ${(e as Error).message}; delete --force removes it`);
      throw err;
    }
    store.remove(o.id);
    // A failed hook: the container is destroyed, then the poststop hooks run (runtime.md, lifecycle steps 12-13).
    if (err instanceof HookError && hooksOf(config.hooks, 'poststop').length > 0) {
      const { runHooks } = await import('./hook-run');
      await runHooks(
        'poststop',
        hooksOf(config.hooks, 'poststop'),
        hookState(
          { ...placeholder(o.id), ociVersion: config.ociVersion, bundle, rootfs, annotations: config.annotations ?? {} },
          'poststop',
        ),
        bundle,
        store.root,
      );
    }
    throw err;
  }
}
