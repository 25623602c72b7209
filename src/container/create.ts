// create (runtime-spec runtime.md, runc's create/start contract): everything
// is set up; the user program waits on the exec fifo for start. The state
// directory is the only truth; a failed create leaves nothing behind.
import { UserError } from '../errors';
import type { ContainerRecord } from '../state/record';
import { pidStartTime, procStat } from '../proc';
import type { StateStore } from '../state/store';
import { ownerName } from './passwd';
import { writePidFile } from './pidfile';
import { killQuietly } from './signals';

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
}

export interface Created {
  pid: number;
  exited?: Promise<number>;
}

export async function createContainer(store: StateStore, o: CreateOptions): Promise<Created> {
  // Loaded here, not at the top: only create/run need the validators and the runner.
  const { prepareBundle, planContainer } = await import('./prepare');
  const { launchRunner } = await import('../runner/launch');

  const prepared = prepareBundle(o.bundle, { consoleSocket: o.consoleSocket });
  const { bundle, config, rootfs } = prepared;
  const dir = store.claim(o.id);
  let pid: number | undefined;
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
        // exec joins the same session keyring (absent: the caller's is kept).
        ...(o.noNewKeyring ? {} : { keyring: o.id }),
        // Until the container pid is known, status follows this process: a
        // create killed half-way then shows "stopped" and delete cleans up.
        creatorPid: process.pid,
        creatorStartTime: pidStartTime(process.pid),
      };
      store.write(o.id, record);
      const plan = planContainer(prepared, {
        stateDir: dir,
        wait: o.wait,
        preserveFds: o.preserveFds,
        noPivot: o.noPivot,
        keyring: record.keyring,
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
        },
      });
      pid = launched.pid;
      if (o.pidFile) writePidFile(o.pidFile, pid);
      return launched;
    });
  } catch (err) {
    // A failed create leaves nothing behind: no process, no state directory.
    if (pid !== undefined) killQuietly(pid, 'SIGKILL');
    store.remove(o.id);
    throw err;
  }
}
