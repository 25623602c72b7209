// The plan on the wire, read by the C runner (src/runner/plan.c) on its plan fd:
//   record := TAG \0 COUNT \0 ARG \0 … (COUNT args, decimal count)
// Records are executed in order; see src/README.md "Runner protocol".
// No JSON on the C side: it only splits at NUL bytes.
import { UserError } from '../errors';
import { mapText } from '../container/idmap';
import { CLONE, type Plan } from '../container/plan';
import type { ExecPlan } from '../container/exec-plan';
import { idRuleText } from '../container/fakeroot';

export const PROTOCOL_VERSION = '1';

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
  const r: PlanRecord[] = [['v', PROTOCOL_VERSION], ['fifo', plan.stateDir]];
  if (plan.wait) r.push(['wait']);
  if (plan.preserveFds > 0) r.push(['preserve', String(plan.preserveFds)]);
  for (const j of plan.joins) r.push(['join', String(j.flag), j.path]);
  if (plan.premadeSysfs !== undefined) r.push(['premade-sysfs', String(plan.premadeSysfs)]);
  r.push(['unshare', String(plan.created.reduce((f, t) => f | CLONE[t], 0) >>> 0)]);
  if (!plan.ids.setgroups) r.push(['setgroups', 'deny']);
  r.push(['uidmap', mapText(plan.ids.uidMap)], ['gidmap', mapText(plan.ids.gidMap)]);
  const s = plan.ids.setupIds;
  if (s) r.push(['setupids', String(s.uid), String(s.gid), String(s.hostUid), String(s.hostGid)]);
  if (plan.process.oomScoreAdj !== undefined) r.push(['oom', String(plan.process.oomScoreAdj)]);
  r.push(['rootfs', plan.rootfs]);
  for (const m of plan.mounts) {
    switch (m.op) {
      case 'mount':
        r.push(['mount', m.source, m.dest, m.fstype, String(m.flags), m.data, String(m.attrs), String(m.propagation), m.kind]);
        if (m.fallback?.op === 'mount') {
          const f = m.fallback;
          r.push(['eperm-mount', f.source, f.dest, f.fstype, String(f.flags), f.data, String(f.attrs), String(f.propagation), f.kind]);
        }
        break;
      case 'symlink':
        r.push(['symlink', m.target, m.path]);
        break;
      case 'mask':
      case 'rdonly':
      case 'mkdir':
        r.push([m.op, m.path]);
        break;
    }
  }
  if (plan.rootReadonly) r.push(['rootro']);
  if (plan.hostname) r.push(['hostname', plan.hostname]);
  if (plan.domainname) r.push(['domainname', plan.domainname]);
  if (plan.rootPropagation) r.push(['rootprop', String(plan.rootPropagation)]);
  if (plan.noPivot) r.push(['nopivot']);
  if (plan.personality !== undefined) r.push(['personality', String(plan.personality)]);
  r.push(...processRecords(plan));
  return r;
}

/** exec: join the container's namespaces (the plan orders them), then the process. */
function execRecords(plan: ExecPlan): PlanRecord[] {
  const r: PlanRecord[] = [['v', PROTOCOL_VERSION]];
  if (plan.wait) r.push(['wait']);
  if (plan.preserveFds > 0) r.push(['preserve', String(plan.preserveFds)]);
  for (const j of plan.joins) r.push(['join', String(j.flag), j.path]);
  if (plan.process.oomScoreAdj !== undefined) r.push(['oom', String(plan.process.oomScoreAdj)]);
  r.push(...processRecords(plan));
  return r;
}

function processRecords(plan: Plan | ExecPlan): PlanRecord[] {
  const r: PlanRecord[] = [];
  const p = plan.process;
  for (const l of p.rlimits) r.push(['rlimit', l.type, String(l.resource), l.soft, l.hard]);
  r.push(['umask', String(p.umask)], ['cwd', p.cwd], ['path', p.searchPath]);
  r.push(['user', String(plan.ids.uid), String(plan.ids.gid)]);
  if (plan.ids.groups) r.push(['groups', ...plan.ids.groups.map(String)]);
  const c = p.caps;
  r.push(['caps', ...[c.bounding, c.effective, c.permitted, c.inheritable, c.ambient].map((b) => b.toString())]);
  if (p.noNewPrivileges) r.push(['nonewprivs']);
  // Installed after the ids are set (the filter would fake the runner's own calls).
  const fr = (plan as Partial<Plan>).fakeroot;
  if (fr) r.push(['seccomp', fr.program.toString('hex')], ['fakeids', ...fr.idRules.map(idRuleText)]);
  // Looked up after pivot_root (create) or the mount-namespace join (exec): the container's own file.
  if (p.homeFromPasswd) r.push(['home', String(plan.ids.uid)]);
  r.push(['args', ...p.args], ['env', ...p.env]);
  return r;
}

export function encodeRecords(records: PlanRecord[]): Buffer {
  const parts: string[] = [];
  for (const [tag, ...args] of records) {
    for (const a of args) {
      // A NUL would split the field: the C side could not tell it from a separator.
      if (a.includes('\0')) throw new UserError(tag, 'a value contains a NUL byte');
    }
    parts.push(tag, String(args.length), ...args);
  }
  return Buffer.from(parts.map((p) => p + '\0').join(''), 'utf8');
}

export function encodePlan(plan: Plan | ExecPlan): Buffer {
  return encodeRecords(planRecords(plan));
}

/** The inverse of encodeRecords (tests, debugging). */
export function decodeRecords(buf: Buffer): PlanRecord[] {
  const fields = buf.toString('utf8').split('\0');
  if (fields.pop() !== '') throw new Error('plan does not end with NUL');
  const out: PlanRecord[] = [];
  for (let i = 0; i < fields.length; ) {
    const tag = fields[i];
    const n = Number(fields[i + 1]);
    if (!Number.isInteger(n) || i + 2 + n > fields.length) throw new Error(`bad record at field ${i}`);
    out.push([tag, ...fields.slice(i + 2, i + 2 + n)]);
    i += 2 + n;
  }
  return out;
}
