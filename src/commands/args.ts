// Small checks shared by the verbs: argument values that yargs cannot check.
import { UserError } from '../errors';
import { checkId } from '../state/id';
import { checkPreserveFds } from '../fds';
import type { CreateOptions } from '../container/create';
import type { ManagerChoice } from '../cgroups/paths';

export function containerId(a: Record<string, unknown>): string {
  if (a.id === undefined || a.id === '') {
    const verb = Array.isArray(a._) && a._.length ? String(a._[0]) : 'this command';
    throw new UserError(verb, 'a container id is required');
  }
  return checkId(a.id);
}

export function preserveFds(a: Record<string, unknown>): number {
  const raw = String(a.preserveFds ?? '0');
  if (!/^\d{1,4}$/.test(raw)) throw new UserError(`--preserve-fds "${raw}"`, 'must be a whole number');
  const n = Number(raw);
  // Only fds the caller passed reach the container, never our own (src/fds.ts).
  checkPreserveFds(n);
  return n;
}

/** What create and run pass to createContainer from their shared options. */
export function createOptions(a: Record<string, unknown>, wait: boolean): CreateOptions {
  return {
    id: containerId(a),
    bundle: String(a.bundle),
    pidFile: a.pidFile as string | undefined,
    consoleSocket: consoleSocketOf(a),
    preserveFds: preserveFds(a),
    noPivot: Boolean(a.noPivot),
    cgroupManager: cgroupManagerOf(a),
    noNewKeyring: Boolean(a.noNewKeyring),
    wait,
  };
}

export function consoleSocketOf(a: Record<string, unknown>): string | undefined {
  return a.consoleSocket === undefined ? undefined : String(a.consoleSocket);
}

/** --systemd-cgroup / --cgroup-manager (crun's values: cgroupfs, systemd, disabled). */
export function cgroupManagerOf(a: Record<string, unknown>): ManagerChoice {
  const m = a.cgroupManager === undefined ? undefined : String(a.cgroupManager);
  if (m !== undefined && m !== 'cgroupfs' && m !== 'systemd' && m !== 'disabled') {
    throw new UserError(`--cgroup-manager "${m}"`, 'must be cgroupfs, systemd or disabled');
  }
  return m ?? (a.systemdCgroup ? 'systemd' : 'cgroupfs');
}
