// Status is derived, never stored: from the live process (pid + its start
// time, so a reused pid is not mistaken for ours; a zombie counts as exited)
// and from exec.fifo, which exists from create until start.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerRecord } from './store';

export type Status = 'creating' | 'created' | 'running' | 'stopped';

export const EXEC_FIFO = 'exec.fifo';

export interface ProcStat {
  /** Field 3: R, S, D, Z, X, T, … */
  state: string;
  /** Field 22: start time in clock ticks after boot, kept as text (it can exceed 2^53 in theory). */
  startTime: string;
}

/**
 * Parses the text of /proc/PID/stat. The command name (field 2) is in
 * parentheses and may itself contain spaces and parentheses, so the fields
 * after it start after the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const state = rest[0];
  const startTime = rest[22 - 3];
  if (!state || !startTime || !/^[0-9]+$/.test(startTime)) return null;
  return { state, startTime };
}

/** State and start time of a process, or null when there is no such process. */
export function procStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return parseProcStat(text);
}

/** The start time to record with a pid (undefined when the process is already gone). */
export function pidStartTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

/** True while pid is our process and has not exited: not gone, not a zombie, not a reused pid. */
export function isRunning(pid: number, startTime?: string): boolean {
  const st = procStat(pid);
  if (!st) return false;
  if (st.state === 'Z' || st.state === 'X' || st.state === 'x') return false;
  if (startTime !== undefined && st.startTime !== startTime) return false;
  return true;
}

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
