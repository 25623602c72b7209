// Runs the hooks that ch-run-oci itself runs (prestart, createRuntime,
// poststart, poststop: see hooks.ts), as the caller, in the caller's
// namespaces, one after the other. Each gets the state on stdin, exactly its
// own env, its own process group (a timeout kills the group), the bundle as
// its cwd and no fd of ours but its stdio; its output goes to our stderr and
// --log.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { HookError, errnoText } from '../errors';
import * as log from '../log';
import { runnerPath } from '../runner/locate';
import type { Hook, HookName } from '../spec/types';
import { hookArgv, hookEnv, hookFailure, hookLabel, hookPoint, type HookOutcome } from './hooks';

/**
 * Runs one hook to its end (or its timeout), through the runner's
 * `hook-exec`, which closes every fd but stdio (Node cannot close the ones
 * it inherited from its caller) and execs the hook in place.
 */
export function runHook(label: string, hook: Hook, state: string, cwd: string, runnerDir?: string): Promise<HookOutcome> {
  const { argv0, args } = hookArgv(hook);
  try {
    fs.accessSync(hook.path, fs.constants.X_OK);
  } catch (err) {
    return Promise.resolve({ spawnError: errnoText(err) });
  }
  const env = hookEnv(hook);
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: HookOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(o);
    };
    let timer: NodeJS.Timeout | undefined;
    const child = spawn(runnerPath(runnerDir), ['hook-exec', hook.path, argv0, ...args], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own session and process group: a timeout kills whatever it started too.
      detached: true,
    });
    child.on('error', (err) => finish({ spawnError: errnoText(err) }));
    if (hook.timeout !== undefined) {
      timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        finish({ timedOut: true });
      }, hook.timeout * 1000);
    }
    // A hook that does not read its stdin gets EPIPE: not a failure of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(state);
    const relay = (chunk: Buffer): void => log.hookOutput(label, chunk.toString('utf8'));
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    // 'exit', not 'close': a daemon the hook left behind may keep the pipes open.
    child.on('exit', (code, signal) => finish(signal ? { signal } : { code: code ?? 0 }));
  });
}

/**
 * Runs the hooks of one kind in order. Fatal kinds stop at the first failure
 * (a HookError naming it); poststart/poststop failures are warnings and the
 * rest still run (runtime-spec v1.3, lifecycle steps 9 and 13).
 */
export async function runHooks(kind: HookName, hooks: Hook[], state: object, cwd: string, runnerDir?: string): Promise<void> {
  const text = JSON.stringify(state);
  const { fatal } = hookPoint(kind);
  // The bundle may be gone by poststop (its owner removed it first).
  if (!fs.existsSync(cwd)) cwd = '/';
  for (const [i, hook] of hooks.entries()) {
    const label = hookLabel(kind, i);
    log.debug(`${label}: running ${hook.path}`);
    const failure = hookFailure(label, hook, await runHook(label, hook, text, cwd, runnerDir));
    if (failure === undefined) continue;
    if (fatal) throw new HookError(failure);
    log.warn(failure);
  }
}
