// Finding and waiting for processes, with no dependencies: test drivers bundled on their own import it too.
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Polls pred every 20 ms until it holds; throws after ms. */
export async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A live process: present in /proc and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls COND every STEP ms until it holds; the ms it took, or an error naming WHAT after MS. */
export async function waitUntil(what: string, cond: () => boolean, ms = 10_000, step = 25): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (cond()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(step);
  }
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Pids whose command line is exactly ARGV (argv[0] by base name: runtimes may
 * resolve `sleep` to /bin/sleep); with `live`, not zombies.
 */
export function pidsOf(argv: string[], o: { live?: boolean } = {}): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const a = fs
        .readFileSync(`/proc/${e}/cmdline`, 'utf8')
        .split('\0')
        .filter((s) => s !== '');
      if (a.length === 0 || path.basename(a[0]) !== argv[0] || a.slice(1).join('\0') !== argv.slice(1).join('\0')) continue;
      if (o.live && !isAlive(Number(e))) continue;
      out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
