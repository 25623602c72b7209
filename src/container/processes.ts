// Which host processes belong to a container: those whose user namespace is
// the container's or a descendant of it, so a process that unshares a user
// namespace of its own is still found (the runner's `procs` mode walks the
// namespace parents, which Node cannot ask for; see src/runner/procs.c).
//
// Only while the container's first process is alive: it is how the namespace
// is found (and, once opened, the runner's fd keeps its inode number from
// being reused). Without a pid namespace and without cgroups, processes that
// outlive the first one cannot be told from others afterwards, and are left.
import { spawnSync } from 'node:child_process';
import { UserError } from '../errors';
import { runnerPath } from '../runner/locate';
import type { ContainerRecord } from '../state/record';
import { isRunning } from '../proc';

/** The inode of the recorded user namespace ("user:[N]"), 0 when unknown. */
export function recordedUserNs(record: ContainerRecord): number {
  const m = /^user:\[(\d+)\]$/.exec(record.ns?.user ?? '');
  return m ? Number(m[1]) : 0;
}

function alive(record: ContainerRecord): boolean {
  return record.pid !== undefined && record.pidStartTime !== undefined && isRunning(record.pid, record.pidStartTime);
}

function runProcs(record: ContainerRecord, args: string[], runnerDir?: string): string {
  const exe = runnerPath(runnerDir);
  const r = spawnSync(exe, ['procs', args[0], String(record.pid), record.pidStartTime!, String(recordedUserNs(record)), ...args.slice(1)], {
    env: {},
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  if (r.error) throw new UserError(`runner ${exe}`, r.error.message);
  if (r.status !== 0) {
    const line = r.stderr.trim().split('\n').pop() ?? '';
    throw new UserError('processes', line.replace(/^ch-run-oci: /, '') || `runner exited with ${r.status ?? r.signal}`);
  }
  return r.stdout;
}

/** Live pids of the container, its first process first (empty once that one is gone). */
export function containerProcesses(record: ContainerRecord, runnerDir?: string): number[] {
  if (!alive(record)) return [];
  return runProcs(record, ['list'], runnerDir).split('\n').filter(Boolean).map(Number);
}

/**
 * Signals every process of the container, scanning again until no new one
 * appears (bounded), then waits up to waitMs for them to be gone. Nothing
 * happens once the first process is gone.
 */
export function signalContainerProcesses(record: ContainerRecord, signal: number, o: { waitMs?: number; runnerDir?: string } = {}): void {
  if (!alive(record)) return;
  runProcs(record, ['kill', String(signal), String(o.waitMs ?? 0)], o.runnerDir);
}
