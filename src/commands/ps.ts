import * as fs from 'node:fs';
import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { observe } from '../container/transitions';
import { containerProcesses } from '../container/processes';
import { allProcesses } from '../container/cgroup';
import { formatTable } from './list';

/** ps: the container's processes (host pids), as a table or a JSON array of pids. */
export async function ps(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const store = openStore(g);
  const { record } = observe(store, containerId(a));
  // With a cgroup, also what is in it (processes that outlived the init).
  const pids = record.cgroup ? allProcesses(record, store.root) : containerProcesses(record, store.root);
  if (a.format === 'json') {
    process.stdout.write(JSON.stringify(pids) + '\n');
    return;
  }
  const rows = [['PID', 'CMD']];
  for (const pid of pids) rows.push([String(pid), commandLine(pid)]);
  process.stdout.write(formatTable(rows));
}

/**
 * A command line as ps(1) shows it: the container writes its own argv, so
 * every control or invisible formatting character (newline, escape, bidi
 * override, line separator…) becomes "?", and a process cannot forge rows,
 * move the cursor or retitle the terminal.
 */
export function printableCommand(raw: string): string {
  return raw
    .split('\0')
    .filter(Boolean)
    .join(' ')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uFFFD]/gu, '?');
}

function commandLine(pid: number): string {
  try {
    return printableCommand(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return '?';
  }
}
