import type { GlobalOptions } from './global';
import { openStore } from './global';
import { observe } from '../container/transitions';
import { stateJson } from '../state/status';

/** list: runc's table (or JSON array) of every container under the state root. */
export async function list(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const store = openStore(g);
  const rows = [];
  for (const id of store.list()) {
    try {
      const { record, status } = observe(store, id);
      rows.push(stateJson(record, status));
    } catch {
      // A container deleted while we listed is simply not listed.
    }
  }
  if (a.quiet) {
    for (const r of rows) process.stdout.write(`${r.id}\n`);
  } else if (a.format === 'json') {
    process.stdout.write(JSON.stringify(rows) + '\n');
  } else {
    const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
    for (const r of rows) table.push([r.id, String(r.pid ?? 0), r.status, r.bundle, String(r.created ?? ''), String(r.owner ?? '')]);
    process.stdout.write(formatTable(table));
  }
}

/** Columns padded like runc's tabwriter (minimum width 12, 3 spaces apart). */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(9, ...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('') + '\n').join('');
}
