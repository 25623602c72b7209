// process.terminal: which terminal the runner sets up, and runc's rules for
// when a console socket is needed (runc's checkTerminal, same conditions and
// wording). The runner gives the process a pty of the container's own devpts
// (src/runner/tty.c); its master goes either to the console socket (the
// caller's, e.g. conmon's or containerd-shim's) or, in the foreground, stays
// with the runner, which relays it to its own stdio.
import * as path from 'node:path';
import { UserError } from '../errors';
import type { Process } from '../spec/types';
import type { TerminalPlan } from '../runner/plan';

/**
 * Throws runc's error for a terminal that nobody could receive (detached,
 * no socket), or a socket that would receive nothing (no terminal, or the
 * foreground, where the runner itself holds the master).
 */
export function checkTerminal(terminal: boolean, detach: boolean, consoleSocket: string | undefined): void {
  const socket = consoleSocket !== undefined && consoleSocket !== '';
  if (detach && terminal && !socket) throw new UserError('cannot allocate tty if ch-run-oci will detach without setting console socket');
  if ((!detach || !terminal) && socket) throw new UserError('cannot use console socket if ch-run-oci will not detach or allocate tty');
}

/**
 * The terminal of a process that met checkTerminal, or undefined without one.
 * `console`: the slave is also bound onto /dev/console (the container's
 * first process, as runc does; not an exec'd one).
 */
export function planTerminal(proc: Process | undefined, consoleSocket: string | undefined, console: boolean): TerminalPlan | undefined {
  if (proc?.terminal !== true) return undefined;
  const size = proc.consoleSize;
  // struct winsize holds 16-bit counts: a larger one would be cut silently.
  for (const k of ['height', 'width'] as const)
    if ((size?.[k] ?? 0) > 0xffff) throw new UserError(`process.consoleSize.${k}`, `${size![k]} is more than a terminal holds (65535)`);
  return {
    rows: size?.height ?? 0,
    cols: size?.width ?? 0,
    console,
    // Connected by the runner's first process, in the caller's namespaces.
    socket: consoleSocket ? path.resolve(consoleSocket) : undefined,
  };
}
