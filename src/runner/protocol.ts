// The plan on the wire, read by the C runner (src/runner/plan.c) on its plan fd:
//   record := TAG \0 COUNT \0 ARG \0 … (COUNT args, decimal count)
// Records are executed in order; see src/README.md "Runner protocol".
// No JSON on the C side: it only splits at NUL bytes.
import { UserError } from '../errors';
import {
  CLONE,
  idRuleText,
  mapText,
  type BindStep,
  type ExecPlan,
  type HookPlan,
  type MountStep,
  type Plan,
  type ProfilePlan,
  type SysctlPlan,
} from './plan';

export const PROTOCOL_VERSION = '2';

export type PlanRecord = [tag: string, ...args: string[]];

/** The plan as records, in the order the runner executes them. */
export function planRecords(plan: Plan | ExecPlan): PlanRecord[] {
  return isExec(plan) ? execRecords(plan) : createRecords(plan);
}

export function isExec(plan: Plan | ExecPlan): plan is ExecPlan {
  return (plan as ExecPlan).kind === 'exec';
}

/** create: namespaces, id maps, the filesystem, then the process. */
function createRecords(plan: Plan): PlanRecord[] {
  const r: PlanRecord[] = [
    ['v', PROTOCOL_VERSION],
    ['fifo', plan.stateDir],
  ];
  if (plan.wait) r.push(['wait']);
  if (plan.preserveFds > 0) r.push(['preserve', String(plan.preserveFds)]);
  if (plan.cgroupProcs?.length) r.push(['cgroup', ...plan.cgroupProcs]);
  for (const j of plan.joins) r.push(['join', String(j.flag), j.path]);
  if (plan.premadeSysfs !== undefined) r.push(['premade-sysfs', String(plan.premadeSysfs)]);
  r.push(...sysctlRecords(plan.sysctls, 'joined'));
  // Read-only binds the container must not make writable: the runner stacks
  // each source read-only on itself in a mount namespace of the caller's
  // user namespace, so that the container's (copied from it at the unshare)
  // gets them locked read-only (MNT_LOCK_READONLY), and binds those.
  const locked = [...new Set(plan.mounts.flatMap((m) => (m.op === 'bind' && m.lock ? [m.source] : [])))];
  if (locked.length) r.push(['lock-binds', ...locked]);
  r.push(['unshare', String(plan.created.reduce((f: number, t) => f | CLONE[t], 0) >>> 0)]);
  if (!plan.ids.setgroups) r.push(['setgroups', 'deny']);
  r.push(['uidmap', mapText(plan.ids.uidMap)], ['gidmap', mapText(plan.ids.gidMap)]);
  const s = plan.ids.setupIds;
  if (s) r.push(['setupids', String(s.uid), String(s.gid), String(s.hostUid), String(s.hostGid)]);
  if (plan.timeOffsets !== undefined) r.push(['timens', plan.timeOffsets]);
  if (plan.process.oomScoreAdj !== undefined) r.push(['oom', String(plan.process.oomScoreAdj)]);
  r.push(...sysctlRecords(plan.sysctls, 'own'));
  r.push(['rootfs', plan.rootfs, String(plan.rootAttrs)]);
  for (const m of plan.mounts) r.push(...mountRecords(m));
  if (plan.rootReadonly) r.push(['rootro']);
  if (plan.hostname) r.push(['hostname', plan.hostname]);
  if (plan.domainname) r.push(['domainname', plan.domainname]);
  if (plan.rootPropagation) r.push(['rootprop', String(plan.rootPropagation)]);
  if (plan.noPivot) r.push(['nopivot']);
  if (plan.personality !== undefined) r.push(['personality', String(plan.personality)]);
  if (plan.hooks) r.push(...hookRecords(plan.hooks));
  r.push(...processRecords(plan));
  return r;
}

/*
 * Hooks (src/runner/hooks.c):
 *   hook-pause CWD                                  C2 reports "hooks" before pivot_root and waits for the state
 *   hook KIND LABEL TIMEOUT PATH NARGS ARG… ENV…    one hook C2 runs (createContainer before pivot, startContainer at start)
 */
function hookRecords(h: HookPlan): PlanRecord[] {
  const r: PlanRecord[] = [['hook-pause', h.cwd]];
  for (const s of h.steps) r.push(['hook', s.kind, s.label, String(s.timeout), s.path, String(s.args.length), ...s.args, ...s.env]);
  return r;
}

const flag = (b: boolean): string => (b ? '1' : '0');

function bindArgs(m: BindStep): string[] {
  const dev = m.device ? `${m.device.type}:${m.device.major}:${m.device.minor}` : '';
  return [m.source, m.dest, String(m.attrs), String(m.propagation), flag(m.recursive), m.kind, flag(m.nofollow), dev];
}

/** One mount step as records (see src/runner/mount.c for their meaning). */
function mountRecords(m: MountStep): PlanRecord[] {
  // Every kind of step has its records (the compiler checks the switch is exhaustive).
  switch (m.op) {
    case 'bind':
      return [['bind', ...bindArgs(m)]];
    case 'fs': {
      const r: PlanRecord[] = [['fs', m.fstype, m.source, m.dest, String(m.attrs), String(m.propagation), flag(m.nofollow), ...m.options]];
      if (m.fallback) r.push(['eperm-bind', ...bindArgs(m.fallback)]);
      return r;
    }
    case 'symlink':
      return [['symlink', m.target, m.path]];
    case 'mask':
    case 'rdonly':
      return [m.rel === undefined ? [`${m.op}-root`, m.path] : [m.op, m.rel]];
    case 'mkdir':
      return [['mkdir', m.path]];
    default:
      return m satisfies never;
  }
}

/** exec: join the container's namespaces (the plan orders them), then the process. */
function execRecords(plan: ExecPlan): PlanRecord[] {
  const r: PlanRecord[] = [['v', PROTOCOL_VERSION]];
  if (plan.wait) r.push(['wait']);
  if (plan.preserveFds > 0) r.push(['preserve', String(plan.preserveFds)]);
  if (plan.cpusInitial) r.push(['cpus-initial', ...plan.cpusInitial.map(String)]);
  if (plan.cgroupProcs?.length) r.push(['cgroup', ...plan.cgroupProcs]);
  r.push(['target', String(plan.target.pid), plan.target.startTime]);
  for (const j of plan.joins) r.push(['join', String(j.flag), j.path]);
  if (plan.process.oomScoreAdj !== undefined) r.push(['oom', String(plan.process.oomScoreAdj)]);
  if (plan.cpusFinal) r.push(['cpus-final', ...plan.cpusFinal.map(String)]);
  r.push(...processRecords(plan));
  return r;
}

/*
 * Scheduling and memory placement (src/runner/sched.c):
 *   sched POLICY FLAGS NICE PRIORITY RUNTIME DEADLINE PERIOD TEXT   R: sched_setattr of C2, by pid
 *   ioprio VALUE TEXT                  R: ioprio_set of C2, by pid
 *   mempolicy MODE TEXT NODE…          C2: set_mempolicy on itself during set-up
 *   cpus-initial CPU… / cpus-final CPU…  exec: C1 before the cgroup join / C2 after it
 *   timens TEXT                        C1: /proc/self/timens_offsets after the id maps
 * TEXT is what the config asked, for the note R sends once it is applied.
 */
function schedRecords(plan: Plan | ExecPlan): PlanRecord[] {
  const r: PlanRecord[] = [];
  const s = plan.process.scheduler;
  if (s) r.push(['sched', ...[s.policy, s.flags, s.nice, s.priority].map(String), s.runtime, s.deadline, s.period, s.text]);
  const io = plan.process.ioPriority;
  if (io) r.push(['ioprio', String(io.value), io.text]);
  const m = plan.memoryPolicy;
  if (m) r.push(['mempolicy', String(m.mode), m.text, ...m.nodes.map(String)]);
  return r;
}

function processRecords(plan: Plan | ExecPlan): PlanRecord[] {
  const r: PlanRecord[] = schedRecords(plan);
  const p = plan.process;
  for (const l of p.rlimits) r.push(['rlimit', l.type, String(l.resource), l.soft, l.hard]);
  r.push(['umask', String(p.umask)], ['cwd', p.cwd], ['path', p.searchPath]);
  r.push(['user', String(plan.ids.uid), String(plan.ids.gid)]);
  if (plan.ids.groups) r.push(['groups', ...plan.ids.groups.map(String)]);
  const c = p.caps;
  r.push(['caps', ...[c.bounding, c.effective, c.permitted, c.inheritable, c.ambient].map((b) => b.toString())]);
  if (p.noNewPrivileges) r.push(['nonewprivs']);
  // Installed after the ids are set (the filter would fake the runner's own calls).
  const fr = plan.fakeroot;
  if (fr) r.push(['seccomp', fr.program.toString('hex')], ['fakeids', ...fr.idRules.map(idRuleText)]);
  // Built at create (errors and notes reach the caller), loaded last before execve.
  if (plan.profile) r.push(...profileRecords(plan.profile));
  if (plan.keyring !== undefined) r.push(['keyring', plan.keyring]);
  // Looked up after pivot_root (create) or the mount-namespace join (exec): the container's own file.
  if (p.homeFromPasswd) r.push(['home', String(plan.ids.uid)]);
  // After the mounts (create) or the join (exec), in C2: the pty (src/runner/tty.c).
  const t = plan.terminal;
  if (t) r.push(['terminal', String(t.rows), String(t.cols), flag(t.console)]);
  if (t?.socket !== undefined) r.push(['console-socket', t.socket]);
  r.push(['args', ...p.args], ['env', ...p.env]);
  return r;
}

/*
 * The seccomp profile and the sysctls (read by src/runner/profile.c and sysctl.c):
 *   scmp-default ACTION               first: the profile exists, its default action
 *   scmp-arch NAME                    an architecture added to the native one (libseccomp name)
 *   scmp-flag tsync|log|spec_allow|optimize
 *   scmp-rule ACTION NAME [I:OP:A:B]… one rule; conditions ANDed (enum scmp_compare, u64 decimal)
 *   sysctl NAME PATH VALUE            C2, before the mounts (the container's own namespaces)
 *   joined-sysctl NAME PATH VALUE     C1, after the joins, before the unshare
 * ACTION is libseccomp's action value (errno included), decimal.
 */
function profileRecords(p: ProfilePlan): PlanRecord[] {
  const r: PlanRecord[] = [['scmp-default', String(p.defaultAction)]];
  for (const a of p.arches) r.push(['scmp-arch', a]);
  for (const f of p.flags) r.push(['scmp-flag', f]);
  for (const rule of p.rules) {
    r.push(['scmp-rule', String(rule.action), rule.name, ...rule.conds.map((c) => `${c.index}:${c.op}:${c.a}:${c.b}`)]);
  }
  return r;
}

function sysctlRecords(s: SysctlPlan, which: 'own' | 'joined'): PlanRecord[] {
  const tag = which === 'own' ? 'sysctl' : 'joined-sysctl';
  return s[which].map((w) => [tag, w.name, w.path, w.value]);
}

export function encodeRecords(records: PlanRecord[]): Buffer {
  const parts: string[] = [];
  for (const [tag, ...args] of records) {
    for (const a of args) {
      // A NUL would split the field: the C side could not tell it from a separator.
      if (a.includes('\0')) throw new UserError(tag, 'a value contains a NUL byte');
    }
    // One push per field: a spread of 100,000 arguments would overflow the call stack.
    parts.push(tag, String(args.length));
    for (const a of args) parts.push(a);
  }
  return Buffer.from(parts.map((p) => p + '\0').join(''), 'utf8');
}

export function encodePlan(plan: Plan | ExecPlan): Buffer {
  return encodeRecords(planRecords(plan));
}
