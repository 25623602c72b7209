// The container lifecycle (runtime-spec runtime.md, runc's create/start
// contract). The state directory is the only truth; status is always derived
// from the live process, never stored.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, errnoText } from '../errors';
import { debug } from '../log';
import { sleepSync } from '../sleep';
import { StateStore, type ContainerRecord } from '../state/store';
import { EXEC_FIFO, deriveStatus, isRunning, pidStartTime, procStat, type Status } from '../state/status';
import { containerProcesses, userNamespaceOf } from './processes';

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
}

export interface Created {
  pid: number;
  exited?: Promise<number>;
}

/** create: everything is set up; the user program waits on the exec fifo for start. */
export async function createContainer(store: StateStore, o: CreateOptions): Promise<Created> {
  // Loaded here, not at the top: only create/run need the validators and the runner.
  const { loadBundle } = await import('../spec/load');
  const { applyPolicy } = await import('../spec/policy');
  const { buildPlan, readCallerIds } = await import('./plan');
  const { launchRunner } = await import('../runner/launch');

  const { bundle, config } = loadBundle(o.bundle);
  applyPolicy(config, { consoleSocket: o.consoleSocket });
  const rootfs = path.resolve(bundle, config.root!.path);
  checkRootfs(rootfs);

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
        // Until the container pid is known, status follows this process: a
        // create killed half-way then shows "stopped" and delete cleans up.
        creatorPid: process.pid,
        creatorStartTime: pidStartTime(process.pid),
      };
      store.write(o.id, record);
      const plan = { ...buildPlan(config, { bundle, rootfs, stateDir: dir, caller: readCallerIds() }), noPivot: o.noPivot };
      const launched = await launchRunner(plan, {
        wait: o.wait,
        preserveFds: o.preserveFds,
        runnerDir: store.root,
        // Recorded before the runner lets the container go: a create killed
        // at any point leaves either no container process or a recorded one.
        onPid: (p) => {
          pid = p;
          const stat = procStat(p);
          if (!stat) throw new UserError('create', `container process ${p} exited during set-up`);
          record.pid = p;
          record.pidStartTime = stat.startTime;
          record.ns = { user: userNamespaceOf(p) ?? '' };
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

function checkRootfs(rootfs: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch (err) {
    throw new UserError(`root.path ${rootfs}`, errnoText(err));
  }
  if (!st.isDirectory()) throw new UserError(`root.path ${rootfs}`, 'not a directory');
}

function ownerName(): string {
  const uid = process.geteuid!();
  try {
    // getpwuid without a native call: /etc/passwd is what runc's "owner" shows too.
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid) return f[0];
    }
  } catch {
    /* no passwd: fall through */
  }
  return `#${uid}`;
}

/** The pid file is written atomically: a reader never sees an empty file. */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
    fs.renameSync(tmp, abs);
  } catch (err) {
    try { fs.unlinkSync(tmp); } catch { /* already gone */ }
    throw new UserError(`--pid-file ${abs}`, errnoText(err));
  }
}

export interface Observed {
  record: ContainerRecord;
  status: Status;
  dir: string;
}

export function observe(store: StateStore, id: string): Observed {
  const record = store.read(id);
  const dir = store.dir(id);
  return { record, status: deriveStatus(record, dir), dir };
}

/**
 * start: release the process waiting on the exec fifo; returns at once.
 * With onExit, the user program begins only when this process has exited:
 * the container waits for the fifo's last reader to go, and the kernel
 * closes our end at exit. buildah installs its SIGTERM handler only after
 * `start` returns; a signal in between would kill buildah and orphan a
 * running container, so the program must not run before start has returned.
 */
export async function startContainer(store: StateStore, id: string, o: { onExit?: boolean } = {}): Promise<void> {
  await store.withLock(id, () => {
    const { record, status, dir } = observe(store, id);
    if (status !== 'created') {
      throw new UserError(`container "${id}"`, `cannot start a container that is ${status}`);
    }
    releaseFifo(path.join(dir, EXEC_FIFO), record, Boolean(o.onExit));
  });
}

/**
 * Open the fifo for reading without blocking (a blocking open would hang
 * forever if the container died), then wait for the one byte the container
 * writes once our open released its own blocking open for writing. The
 * container then runs its program when our end is closed: at once, or with
 * keepOpen when this process exits.
 */
function releaseFifo(fifo: string, record: ContainerRecord, keepOpen: boolean): void {
  let fd: number;
  try {
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw new UserError(`start: ${fifo}`, errnoText(err));
  }
  try {
    const byte = Buffer.alloc(1);
    const deadline = Date.now() + 10_000;
    for (let wait = 0; ; wait = Math.min(wait + 1, 10)) {
      // Liveness first, then the read: a program that runs and exits at once
      // (echo hi) may be gone by now, but then its byte is already in the
      // fifo and this read gets it. The other order reported such a
      // container as "exited before it was started" (seen under load).
      const alive = isRunning(record.pid!, record.pidStartTime!);
      let n = 0;
      try {
        n = fs.readSync(fd, byte, 0, 1, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw new UserError(`start: ${fifo}`, errnoText(err));
      }
      if (n === 1) break;
      if (!alive) {
        throw new UserError(`container "${record.id}"`, 'container process exited before it was started');
      }
      if (Date.now() > deadline) throw new UserError(`container "${record.id}"`, 'container process did not answer start within 10 s');
      sleepSync(wait);
    }
    fs.unlinkSync(fifo);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  if (!keepOpen) fs.closeSync(fd);
}

/**
 * kill: signal the container process (or, with all, every process of it).
 * The wording is runc's: containerd's shim reads "container not running"
 * (and "does not exist") as "already gone" and anything else as a failure.
 * With all, a stopped container is no error (runc 1.1 neither): the shim
 * sends `kill --all ID 9` after the init of a container without its own pid
 * namespace has exited, to reach what is left.
 */
export function killContainer(store: StateStore, id: string, signal: number, all: boolean): void {
  const { record, status } = observe(store, id);
  if (status !== 'created' && status !== 'running') {
    if (all && status === 'stopped') return;
    throw new UserError(`container "${id}"`, `container not running (status ${status})`);
  }
  const pids = all ? containerProcesses(record) : [record.pid!];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw new UserError(`kill ${pid}`, errnoText(err));
    }
  }
}

/**
 * delete: a stopped container is removed; a created one is killed first (it
 * never ran the user program, as in runc); a running one only with force.
 */
export async function deleteContainer(store: StateStore, id: string, force: boolean): Promise<void> {
  if (!store.exists(id) || store.foreign(id)) {
    if (force) return;
    throw new UserError(`container "${id}"`, 'does not exist');
  }
  await store.withLock(id, () => {
    const { record, status } = observe(store, id);
    if (status === 'running' && !force) {
      throw new UserError(`container "${id}"`, 'cannot delete a running container (stop it first or use --force)');
    }
    // "creating" seen under the lock means a create that died half-way (create
    // holds the lock until it is done): its leftovers are removed like a stopped one.
    // Processes that outlived the container's pid 1 (no pid namespace) share its
    // user namespace: they are the container's too and go with it.
    const victims = containerProcesses(record);
    for (const pid of victims) killQuietly(pid, 'SIGKILL');
    waitGone(victims, record);
    store.remove(id);
  });
}

function killQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Wait (bounded) until the killed processes are gone or zombies. */
function waitGone(pids: number[], record: ContainerRecord): void {
  const deadline = Date.now() + 5_000;
  for (const pid of pids) {
    const start = pid === record.pid ? record.pidStartTime : procStat(pid)?.startTime;
    while (start && isRunning(pid, start)) {
      if (Date.now() > deadline) {
        debug(`process ${pid} still alive 5 s after SIGKILL`);
        return;
      }
      sleepSync(2);
    }
  }
}
