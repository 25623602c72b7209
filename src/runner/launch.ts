// Runs the native runner for one container:
//   runner create|exec PLAN_FD REPORT_FD
// stdio 0-2 are the caller's (the container inherits them), fds 3..3+N-1 are
// the preserved fds, then the plan pipe and the report pipe. The runner reads
// the plan to EOF, says "pid PID" once the container process exists, and
// answers "ok PID [USERNS]" or "error STEP: …" (then, after our "go",
// "detached"). Every wait on it is bounded (reportTimeoutMs): a container can
// stop an exec helper that appears in its pid namespace.
import { spawn, type StdioOptions } from 'node:child_process';
import * as os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { HookError, UserError, errnoText } from '../errors';
import * as log from '../log';
import { pidStartTime } from '../proc';
import type { ExecPlan, Plan } from './plan';
import { runnerPath } from './locate';
import { encodePlan, isExec } from './protocol';

export interface LaunchOptions {
  runnerDir?: string;
  /**
   * Called with the container pid before the runner lets the container
   * detach: record it here. A caller killed before it returns leaves no
   * process; one killed after leaves a recorded one. Throwing aborts.
   * `userNs` is the inode of the container's user namespace (create): its
   * /proc/PID/ns files are not readable by an unprivileged caller until execve.
   */
  onPid?: (pid: number, userNs?: number) => void | Promise<void>;
  /**
   * The hook pause (a plan with hooks): C2 has its namespaces and mounts and
   * waits before pivot_root. Runs create's own hooks with the container pid
   * (as the caller sees it) and returns what C2 gets: the state for its
   * createContainer hooks and for its startContainer hooks, one JSON a line.
   * Throwing aborts the create. The report bound does not run meanwhile, nor
   * while C2 runs its createContainer hooks (each has its own timeout).
   */
  onHooks?: (pid: number) => Promise<string>;
}

export interface Launched {
  /** The container process, as the caller sees it. */
  pid: number;
  /** With wait: the exit code, or 128+signal, like a shell. */
  exited?: Promise<number>;
}

/** The early "pid PID" line: the container process exists (for clean-up only). */
export function parseEarlyPid(line: string): number | undefined {
  const m = /^pid (\d+)$/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** Parses the runner's report line. */
export function parseReport(line: string): { pid: number; userNs?: number } | { error: string } {
  const ok = /^ok (\d+)(?: (\d+))?$/.exec(line);
  if (ok) return ok[2] === undefined ? { pid: Number(ok[1]) } : { pid: Number(ok[1]), userNs: Number(ok[2]) };
  if (line.startsWith('error ')) return { error: line.slice(6) };
  return { error: `runner: unexpected report ${JSON.stringify(line.slice(0, 200))}` };
}

/** create (a Plan) or exec (an ExecPlan: runs at once, no fifo). */
export async function launchRunner(plan: Plan | ExecPlan, opts: LaunchOptions): Promise<Launched> {
  const mode = isExec(plan) ? 'exec' : 'create';
  // The plan says both: how many fds pass, and whether the runner stays to report the status.
  const n = plan.preserveFds;
  const wire = encodePlan(plan);
  const planFd = 3 + n;
  const reportFd = 4 + n;
  const stdio: StdioOptions = ['inherit', 'inherit', 'inherit'];
  for (let fd = 3; fd < planFd; fd++) stdio.push(fd);
  stdio.push('pipe', 'pipe');
  const exe = runnerPath(opts.runnerDir);

  return new Promise<Launched>((resolve, reject) => {
    // The runner needs no environment: the container's comes from the plan.
    const child = spawn(exe, [mode, String(planFd), String(reportFd)], { stdio, env: {} });
    const exited = new Promise<number>((res) => {
      child.on('exit', (code, signal) => res(code ?? 128 + signalNumber(signal)));
    });
    let settled = false;
    let pid: number | undefined;
    // The container process from the runner's first line, with its start time.
    let early: { pid: number; start?: string } | undefined;
    const fail = (err: UserError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    };
    // A runner (or its container process) stopped by a signal would leave us
    // waiting forever. Past the bound the whole set-up goes: R by SIGKILL,
    // C1 and C2 through their PDEATHSIG chain, and the container process by
    // pid as well (stopped before it set its PDEATHSIG, or after it cleared it).
    const limit = reportTimeoutMs();
    const killAll = (): void => {
      child.kill('SIGKILL');
      if (early && early.start !== undefined && pidStartTime(early.pid) === early.start) {
        try {
          process.kill(early.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        killAll();
        fail(new UserError(mode, `the runner did not report within ${limit / 1000} s (stopped by a container process?); it was killed`));
      }, limit);
    };
    arm();
    child.on('error', (err) => fail(new UserError(`runner ${exe}`, errnoText(err))));

    const planPipe = child.stdio[planFd] as Writable | null;
    const report = child.stdio[reportFd] as Readable | null;
    if (!planPipe || !report) return; // spawn failed: the 'error' event reports it
    // EPIPE here means the runner died early; its exit is reported below.
    planPipe.on('error', () => {});
    planPipe.end(wire);

    // The report fd is a socket (Node's 'pipe'): after "ok PID" we answer
    // "go" once onPid has recorded the pid, and the runner lets the container
    // detach and answers "detached". Until then the container dies with us.
    let text = '';
    const confirm = async (p: number, userNs?: number): Promise<void> => {
      try {
        await opts.onPid?.(p, userNs);
      } catch (err) {
        child.kill('SIGKILL');
        return fail(err instanceof UserError ? err : new UserError('create', errnoText(err)));
      }
      (report as unknown as Writable).write('go\n');
    };
    // The hook pause: create's hooks run, then C2 gets the states for its own.
    const pause = async (): Promise<void> => {
      clearTimeout(timer);
      let payload: string;
      try {
        if (!early || !opts.onHooks) throw new UserError('runner', 'hook pause without a container pid');
        payload = await opts.onHooks(early.pid);
      } catch (err) {
        killAll();
        return fail(err instanceof UserError ? err : new UserError('create', errnoText(err)));
      }
      const body = Buffer.from(payload, 'utf8');
      (report as unknown as Writable).write(`resume ${body.length}\n`);
      (report as unknown as Writable).write(body);
    };
    report.setEncoding('utf8');
    report.on('data', (chunk: string) => {
      text += chunk;
      for (let nl = text.indexOf('\n'); nl >= 0 && !settled; nl = text.indexOf('\n')) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (pid !== undefined && line === 'detached') {
          settled = true;
          clearTimeout(timer);
          report.destroy();
          return resolve(plan.wait ? { pid, exited } : { pid });
        }
        // A fallback the runner took (src/runner/report.c note()): for --debug.
        if (line.startsWith('note ')) {
          log.debug(line.slice(5));
          continue;
        }
        if (line.startsWith('hook-out ')) {
          const rest = line.slice(9);
          const sp = rest.indexOf(' ');
          log.hookOutput(rest.slice(0, sp), rest.slice(sp + 1) + '\n');
          continue;
        }
        if (line === 'hooks') {
          void pause();
          continue;
        }
        if (line === 'hooks-done') {
          arm();
          continue;
        }
        const p = parseEarlyPid(line);
        if (p !== undefined && pid === undefined) {
          early = { pid: p, start: pidStartTime(p) };
          continue;
        }
        const r = parseReport(line);
        if ('error' in r) return fail(r.error.startsWith('hooks.') ? new HookError(r.error) : new UserError(r.error));
        if (pid !== undefined) return fail(new UserError('runner', `unexpected report ${JSON.stringify(line.slice(0, 200))}`));
        pid = r.pid;
        void confirm(r.pid, r.userNs);
      }
    });
    report.on('error', () => {});
    child.on('close', (code, signal) => {
      const how = signal ? `killed by ${signal}` : `exit status ${code}`;
      fail(new UserError('runner', `exited without reporting (${how})`));
    });
  });
}

/** Hidden test override (seconds) of how long the runner may take to report; see the man page. */
export const REPORT_TIMEOUT_ENV = 'CH_RUN_OCI_REPORT_TIMEOUT';
const REPORT_TIMEOUT_MS = 20_000;

/** How long the runner may take from its start to "detached" (read at call time, never at load). */
export function reportTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env[REPORT_TIMEOUT_ENV]);
  return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : REPORT_TIMEOUT_MS;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  if (!signal) return 0;
  return os.constants.signals[signal] ?? 0;
}
