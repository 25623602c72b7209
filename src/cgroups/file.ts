// Reading and writing cgroup files. A cgroup file is a command: it is opened
// without O_CREAT (a missing knob must fail, not become a plain file), one
// write per line, errors kept as the kernel gave them (errno codes).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleepSync } from '../sleep';

const { O_WRONLY, O_TRUNC, O_NOFOLLOW } = fs.constants;

export function writeFile(file: string, value: string): void {
  const fd = fs.openSync(file, O_WRONLY | O_TRUNC | O_NOFOLLOW);
  try {
    // Multi-line values (unified keys such as io.max) are one command per line.
    for (const line of value.split('\n')) if (line !== '' || value === '') fs.writeSync(fd, line);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's content, or undefined when it cannot be read. */
export function readFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function exists(file: string): boolean {
  try {
    fs.accessSync(file);
    return true;
  } catch {
    return false;
  }
}

/** "key value" lines (cgroup.events, memory.stat, cpu.stat) as numbers. */
export function readKeyed(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readFile(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A number file ("max" and unreadable: undefined). */
export function readNumber(file: string): number | undefined {
  const t = readFile(file)?.trim();
  return t !== undefined && /^\d+$/.test(t) ? Number(t) : undefined;
}

/** The pids listed in DIR/cgroup.procs of dir and every cgroup below it. */
export function procsBelow(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string, depth: number): void => {
    for (const line of (readFile(path.join(d, 'cgroup.procs')) ?? '').split('\n')) {
      const pid = Number(line);
      if (line !== '' && Number.isInteger(pid) && pid > 0) out.push(pid);
    }
    if (depth > 64) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name), depth + 1);
  };
  walk(dir, 0);
  return out;
}

/**
 * Removes a cgroup and every cgroup below it (children first). A cgroup whose
 * last process has just died may stay busy for a moment: EBUSY is retried
 * with a growing pause, about 1 s in all (as runc). Gone already: fine.
 */
export function removeTree(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(path.join(dir, e.name));
  for (let delay = 1; ; delay *= 2) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || delay > 512) throw err;
      sleepSync(delay);
    }
  }
}
