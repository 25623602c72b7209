// Signal names and numbers as `kill` takes them: podman sends numbers ("15",
// "9"), runc users write TERM / SIGKILL / kill, and the OCI CLI default is TERM.
import * as os from 'node:os';
import { UserError } from '../errors';

export const DEFAULT_SIGNAL = 15; // SIGTERM

// glibc reserves the first two real-time signals (kernel 32, 33) for its own
// threads, so SIGRTMIN as users know it is 34; SIGRTMAX is 64 on Linux.
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** A signal number from a name (any case, "SIG" optional), a number, or RTMIN+n / RTMAX-n. */
export function parseSignal(s: string | number | undefined): number {
  if (s === undefined) return DEFAULT_SIGNAL;
  const text = String(s).trim();
  const n = signalNumber(text);
  if (n === undefined) throw new UserError(`signal "${text.slice(0, 64)}"`, 'unknown signal');
  return n;
}

function signalNumber(text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= SIGRTMAX ? n : undefined;
  }
  const name = text.toUpperCase().replace(/^SIG/, '');
  const rt = /^RT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (rt) return realtime(rt[1], rt[2], rt[3]);
  const named = (os.constants.signals as Record<string, number>)['SIG' + name];
  return typeof named === 'number' ? named : undefined;
}

// RTMIN, RTMIN+n (counting up) and RTMAX, RTMAX-n (counting down), as kill(1) accepts.
function realtime(base: string, sign: string | undefined, count: string | undefined): number | undefined {
  const k = count === undefined ? 0 : Number(count);
  let n: number;
  if (base === 'MIN') {
    if (sign === '-') return undefined;
    n = SIGRTMIN + k;
  } else {
    if (sign === '+') return undefined;
    n = SIGRTMAX - k;
  }
  return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
}

/** The signals a person or a caller uses to end a foreground command. */
export const TERMINATING = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * While a command waits for a container process, a terminating signal to it
 * is meant for that process: pass it on. Returns the function that stops it.
 */
export function forwardSignals(pid: number): () => void {
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  for (const s of TERMINATING) process.on(s, forward);
  return () => {
    for (const s of TERMINATING) process.off(s, forward);
  };
}

/** Sends a signal to a process that may be gone already. */
export function killQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}
