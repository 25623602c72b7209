// What /proc says about a process: its state and start time. A pid and its
// start time together name one process for good (a reused pid has another
// start time); a zombie counts as exited.
import * as fs from 'node:fs';

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
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
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
