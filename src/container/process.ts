// Process settings: everything the runner applies to the container process,
// with names already turned into numbers.
import { UserError } from '../errors';
import * as log from '../log';
import { KNOWN_CAPABILITIES } from '../spec/capabilities';
import type { Capabilities, Process } from '../spec/types';
import type { CapSets, ProcessPlan } from '../runner/plan';
import { containerPath } from './mounts';
import { callerStackLimit, checkExecSize } from './exec-limits';
import { planIoPriority, planScheduler } from './sched';

// linux/resource.h order.
const RLIMITS = [
  'RLIMIT_CPU',
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS',
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
];

/** What Go's os/exec and runc use when the environment has no PATH. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function rlimitNumber(name: string): number {
  const n = RLIMITS.indexOf(name);
  if (n < 0) throw new UserError('process.rlimits', `unknown rlimit type ${name}`);
  return n;
}

/** JSON numbers from 2^64-1 on (which JSON.parse rounds to 2^64) mean RLIM_INFINITY. */
export function rlimitValue(v: number): string {
  if (v >= 2 ** 64 - 1) return 'unlimited';
  if (!Number.isFinite(v) || v < 0) throw new UserError('process.rlimits', `invalid limit ${v}`);
  return BigInt(Math.trunc(v)).toString();
}

export function capNumber(name: string, field: string): number {
  const n = KNOWN_CAPABILITIES.indexOf(name);
  if (n < 0) throw new UserError(field, `unknown capability ${name}`);
  return n;
}

function capMask(names: string[] | undefined, field: string): bigint {
  let m = 0n;
  for (const name of names ?? []) m |= 1n << BigInt(capNumber(name, field));
  return m;
}

export function capSets(c: Capabilities | undefined): CapSets {
  const f = 'process.capabilities';
  const s: CapSets = {
    bounding: capMask(c?.bounding, `${f}.bounding`),
    effective: capMask(c?.effective, `${f}.effective`),
    permitted: capMask(c?.permitted, `${f}.permitted`),
    inheritable: capMask(c?.inheritable, `${f}.inheritable`),
    ambient: capMask(c?.ambient, `${f}.ambient`),
  };
  // The kernel raises an ambient capability only when it is permitted and
  // inheritable; the rest would fail at exec, after start reported success.
  const allowed = s.permitted & s.inheritable;
  if (s.ambient & ~allowed) {
    log.debug('process.capabilities.ambient: capabilities not both permitted and inheritable dropped');
    s.ambient &= allowed;
  }
  // capset(2) refuses an effective capability that is not permitted.
  if (s.effective & ~s.permitted) {
    log.debug('process.capabilities.effective: capabilities not permitted dropped');
    s.effective &= s.permitted;
  }
  return s;
}

/** PATH for the executable lookup: the last PATH= of env, as execvpe would see it. */
export function searchPath(env: string[]): string {
  const entries = env.filter((e) => e.startsWith('PATH='));
  return entries.length ? entries[entries.length - 1].slice(5) : DEFAULT_PATH;
}

/** Whether env lacks a usable HOME: none, or only empty ones (runc's test is getenv("HOME") == ""). */
export function lacksHome(env: string[]): boolean {
  const homes = env.filter((e) => e.startsWith('HOME='));
  return homes.length === 0 || homes[homes.length - 1] === 'HOME=';
}

/** config.process for create, or the process.json of `exec`. */
export function planProcess(p: Process | undefined): ProcessPlan {
  if (!p) throw new UserError('process', 'is required to run a container');
  if (!p.args || p.args.length === 0) throw new UserError('process.args', 'must name the program to run');
  // An empty HOME counts as none (as in runc): it makes way for the runner's.
  const homeFromPasswd = lacksHome(p.env ?? []);
  const env = homeFromPasswd ? (p.env ?? []).filter((e) => !e.startsWith('HOME=')) : (p.env ?? []);
  const rlimits = (p.rlimits ?? []).map((r) => {
    if (r.soft > r.hard) throw new UserError('process.rlimits', `${r.type}: soft limit above hard limit`);
    return { type: r.type, resource: rlimitNumber(r.type), soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) };
  });
  const stack = rlimits.find((r) => r.type === 'RLIMIT_STACK');
  checkExecSize(p.args, env, stack ? (stack.soft === 'unlimited' ? Infinity : Number(stack.soft)) : callerStackLimit());
  return {
    args: p.args,
    env,
    searchPath: searchPath(env),
    cwd: containerPath(p.cwd ?? '/'),
    umask: p.user?.umask ?? 0o022,
    rlimits,
    noNewPrivileges: p.noNewPrivileges === true,
    caps: capSets(p.capabilities),
    oomScoreAdj: p.oomScoreAdj,
    homeFromPasswd,
    scheduler: planScheduler(p.scheduler),
    ioPriority: planIoPriority(p.ioPriority),
  };
}
