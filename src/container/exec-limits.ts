// What execve(2) accepts, checked at create so a config the kernel would
// refuse at start (E2BIG, after start already reported success) is a
// one-line error naming the field and the limit instead. The kernel's rule
// (fs/exec.c): every string at most MAX_ARG_STRLEN, and all of them plus one
// pointer each within a quarter of the stack limit (at most 6 MiB, at least
// 128 KiB).
import * as fs from 'node:fs';
import { UserError } from '../errors';

export const MAX_ARG_STRLEN = 32 * 4096;
const ARG_MAX = 32 * 4096;
const STK_LIM = 8 * 1024 * 1024;
/** Room for the executable's path, which execve copies too. */
const PATH_ROOM = 4096;

/** Bytes execve may copy for a process whose stack soft limit is `stack` (Infinity = unlimited). */
export function argSpace(stack: number): number {
  return Math.max(Math.min((STK_LIM / 4) * 3, stack / 4), ARG_MAX);
}

/** Throws naming process.args or process.env when execve would refuse them. */
export function checkExecSize(args: readonly string[], env: readonly string[], stack: number): void {
  let bytes = PATH_ROOM + (Math.max(args.length, 1) + env.length) * 8;
  let envBytes = 0;
  for (const [field, list] of [
    ['process.args', args],
    ['process.env', env],
  ] as const) {
    for (let i = 0; i < list.length; i++) {
      const n = Buffer.byteLength(list[i]) + 1;
      if (n > MAX_ARG_STRLEN)
        throw new UserError(`${field}[${i}]`, `${n - 1} bytes, more than the kernel's limit of ${MAX_ARG_STRLEN - 1} for one string`);
      bytes += n;
      if (field === 'process.env') envBytes += n;
    }
  }
  const space = argSpace(stack);
  if (bytes > space) {
    const field = envBytes * 2 > bytes ? 'process.env' : 'process.args';
    const limit = Number.isFinite(stack) ? `${stack} bytes` : 'unlimited';
    throw new UserError(
      field,
      `${args.length} arguments and ${env.length} variables take ${bytes} bytes; execve takes at most ${Math.floor(space)} with a stack limit of ${limit}`,
    );
  }
}

/** The stack soft limit this process passes on (the container's unless process.rlimits sets RLIMIT_STACK). */
export function callerStackLimit(limits: string = readLimits()): number {
  const m = /^Max stack size\s+(\S+)/m.exec(limits);
  if (!m || m[1] === 'unlimited') return Infinity;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : Infinity;
}

function readLimits(): string {
  try {
    return fs.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return '';
  }
}
