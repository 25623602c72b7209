import * as fs from 'node:fs';
import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { observe } from '../container/transitions';
import { containerProcesses } from '../container/processes';
import { formatTable } from './list';

/** ps: the container's processes (host pids), as a table or a JSON array of pids. */
export async function ps(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const { record } = observe(openStore(g), containerId(a));
  const pids = containerProcesses(record);
  if (a.format === 'json') {
    process.stdout.write(JSON.stringify(pids) + '\n');
    return;
  }
  const rows = [['PID', 'CMD']];
  for (const pid of pids) rows.push([String(pid), commandLine(pid)]);
  process.stdout.write(formatTable(rows));
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}
