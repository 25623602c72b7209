// Status is derived, never stored: from the live process (pid + its start
// time, so a reused pid is not mistaken for ours; a zombie counts as exited)
// and from exec.fifo, which exists from create until start; "paused" from the
// freezer file recorded with the container's cgroup (one read).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRunning } from '../proc';
import type { ContainerRecord } from './record';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export const EXEC_FIFO = 'exec.fifo';

/**
 * no pid recorded yet → creating (or stopped when the recorded `create`
 * process died before it got that far); process gone → stopped; its cgroup
 * frozen → paused; exec.fifo still there (start has not opened it) → created;
 * otherwise running.
 */
export function deriveStatus(record: ContainerRecord, dir: string): Status {
  if (record.pid === undefined || record.pid === null || record.pid <= 0) {
    const creator = record.creatorPid;
    if (creator !== undefined && creator > 0 && !isRunning(creator, record.creatorStartTime)) return 'stopped';
    return 'creating';
  }
  if (!isRunning(record.pid, record.pidStartTime)) return 'stopped';
  if (isFrozen(record)) return 'paused';
  if (fs.existsSync(path.join(dir, EXEC_FIFO))) return 'created';
  return 'running';
}

function isFrozen(record: ContainerRecord): boolean {
  const f = record.cgroup?.freezer;
  if (!f) return false;
  try {
    return fs.readFileSync(f.file, 'utf8').trim() === f.frozen;
  } catch {
    return false;
  }
}

/** What `state` prints (runtime-spec State; runc's extra rootfs/created/owner; pid 0 once stopped, as runc). */
export interface StateJson {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
}

export function stateJson(record: ContainerRecord, status: Status): StateJson {
  const live = status === 'created' || status === 'running' || status === 'paused';
  return {
    ociVersion: record.ociVersion,
    id: record.id,
    pid: live && record.pid ? record.pid : 0,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
    annotations: { ...(record.annotations ?? {}) },
  };
}
