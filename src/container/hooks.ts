// runtime-spec hooks (config.md "POSIX-platform Hooks", runtime.md
// "Lifecycle"): which kind runs where, with what state, and how its result
// reads. Pure: the Node runner of hooks is hook-run.ts, the runner's own is
// src/runner/hooks.c.
//
//   kind             run by                         where                         state status
//   prestart         create (Node, as the caller)   the caller's namespaces       creating
//   createRuntime    create (Node, as the caller)   the caller's namespaces       creating
//   createContainer  the runner's C2                 container ns, before pivot    creating
//   startContainer   the runner's C2, at start       container ns, after pivot     created
//   poststart        start (Node)                   the caller's namespaces       running
//   poststop         delete (Node)                  the caller's namespaces       stopped
//
// prestart and createRuntime run at the "hook pause": C2 has its namespaces
// and mounts and waits before pivot_root until create says go.
import type { ContainerRecord } from '../state/record';
import { stateJson, type StateJson, type Status } from '../state/status';
import type { Hook, HookName, Hooks } from '../spec/types';
import type { HookPlan, HookStep } from '../runner/plan';

export interface HookPoint {
  kind: HookName;
  status: Status;
  by: 'node' | 'runner';
  /** A failure fails the operation (else a warning, runtime.md steps 9 and 13). */
  fatal: boolean;
}

/** In lifecycle order. */
export const HOOK_POINTS: readonly HookPoint[] = [
  { kind: 'prestart', status: 'creating', by: 'node', fatal: true },
  { kind: 'createRuntime', status: 'creating', by: 'node', fatal: true },
  { kind: 'createContainer', status: 'creating', by: 'runner', fatal: true },
  { kind: 'startContainer', status: 'created', by: 'runner', fatal: true },
  { kind: 'poststart', status: 'running', by: 'node', fatal: false },
  { kind: 'poststop', status: 'stopped', by: 'node', fatal: false },
];

export function hookPoint(kind: HookName): HookPoint {
  return HOOK_POINTS.find((p) => p.kind === kind)!;
}

/** How messages name one hook: `hooks.prestart[0]`. */
export function hookLabel(kind: HookName, index: number): string {
  return `hooks.${kind}[${index}]`;
}

export function hooksOf(hooks: Hooks | undefined, kind: HookName): Hook[] {
  const list = hooks?.[kind];
  return Array.isArray(list) ? list : [];
}

/** create stops at the hook pause when any of the kinds run during create needs the state. */
export function needsHookPause(hooks: Hooks | undefined): boolean {
  return (['prestart', 'createRuntime', 'createContainer', 'startContainer'] as const).some((k) => hooksOf(hooks, k).length > 0);
}

/**
 * The hook's environment, exactly its `env` list (nothing of ours leaks in:
 * not PATH, nothing of our own environment). An entry without "=" cannot be passed (Node
 * takes an object); the last of duplicate names wins, as getenv(3) would not
 * promise otherwise.
 */
export function hookEnv(hook: Hook): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of hook.env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return env;
}

/** execv(path, args): args[0] is argv[0]; without args argv is [path]. */
export function hookArgv(hook: Hook): { argv0: string; args: string[] } {
  const args = hook.args ?? [];
  return args.length === 0 ? { argv0: hook.path, args: [] } : { argv0: args[0], args: args.slice(1) };
}

/** The state on a hook's stdin (state.schema.json): the record at that point of the lifecycle. */
export function hookState(record: ContainerRecord, kind: HookName, pid?: number): StateJson {
  const { status } = hookPoint(kind);
  const s = stateJson({ ...record, pid: pid ?? record.pid }, status);
  // stateJson reports pid 0 while creating (no process to speak of yet); at
  // the hook pause the process exists and the hooks need it (Docker's enters
  // its network namespace by pid).
  if (status === 'creating' && (pid ?? record.pid)) s.pid = (pid ?? record.pid)!;
  return s;
}

export type HookOutcome = { code: number } | { signal: string } | { timedOut: true } | { spawnError: string };

/** The one line of a failed hook (also the runner's wording, src/runner/hooks.c); undefined: it succeeded. */
export function hookFailure(label: string, hook: Hook, o: HookOutcome): string | undefined {
  if ('code' in o) return o.code === 0 ? undefined : `${label}: ${hook.path} exited with status ${o.code}`;
  if ('signal' in o) return `${label}: ${hook.path} killed by ${o.signal}`;
  if ('timedOut' in o) return `${label}: ${hook.path} timed out after ${hook.timeout} s`;
  return `${label}: ${hook.path}: ${o.spawnError}`;
}

/**
 * How long `start` waits for the container's answer on the exec fifo: the
 * usual bound plus every startContainer hook's timeout; a hook without one
 * may take as long as it takes (the spec sets no default), so no bound then.
 */
export function startWaitMs(hooks: Hooks | undefined, base: number): number {
  let ms = base;
  for (const h of hooksOf(hooks, 'startContainer')) {
    if (h.timeout === undefined) return Infinity;
    ms += h.timeout * 1000;
  }
  return ms;
}

/** What the runner needs: the pause when any create-time hook exists, and the hooks C2 runs itself. */
export function planHooks(hooks: Hooks | undefined, bundle: string): HookPlan | undefined {
  if (!needsHookPause(hooks)) return undefined;
  const steps: HookStep[] = [];
  for (const kind of ['createContainer', 'startContainer'] as const) {
    for (const [i, h] of hooksOf(hooks, kind).entries()) {
      steps.push({ kind, label: hookLabel(kind, i), path: h.path, args: h.args ?? [], env: h.env ?? [], timeout: h.timeout ?? 0 });
    }
  }
  return { cwd: bundle, steps };
}
