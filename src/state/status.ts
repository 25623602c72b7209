// Status is derived, never stored: from the live process (pid + its start
// time, so a reused pid is not mistaken for ours; a zombie counts as exited)
// and from exec.fifo, which exists from create until start.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRunning } from '../proc';
import type { ContainerRecord } from './record';

export type Status = 'creating' | 'created' | 'running' | 'stopped';

export const EXEC_FIFO = 'exec.fifo';

/**
 * no pid recorded yet → creating (or stopped when the recorded `create`
 * process died before it got that far); process gone → stopped; exec.fifo still
 * there (start has not opened it) → created; otherwise running.
 */
export function deriveStatus(record: ContainerRecord, dir: string): Status {
  if (record.pid === undefined || record.pid === null || record.pid <= 0) {
    const creator = record.creatorPid;
    if (creator !== undefined && creator > 0 && !isRunning(creator, record.creatorStartTime)) return 'stopped';
    return 'creating';
  }
  if (!isRunning(record.pid, record.pidStartTime)) return 'stopped';
  if (fs.existsSync(path.join(dir, EXEC_FIFO))) return 'created';
  return 'running';
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
  const live = status === 'created' || status === 'running';
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
