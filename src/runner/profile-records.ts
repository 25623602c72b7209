// The records of the seccomp profile and the sysctls (read by
// src/runner/profile.c and src/runner/sysctl.c):
//   scmp-default ACTION               first: the profile exists, its default action
//   scmp-arch NAME                    an architecture added to the native one (libseccomp name)
//   scmp-flag tsync|log|spec_allow|optimize
//   scmp-rule ACTION NAME [I:OP:A:B]… one rule; conditions ANDed (enum scmp_compare, u64 decimal)
//   sysctl NAME PATH VALUE            C2, before the mounts (the container's own namespaces)
//   joined-sysctl NAME PATH VALUE     C1, after the joins, before the unshare
// ACTION is libseccomp's action value (errno included), decimal.
import type { ProfilePlan } from '../container/profile';
import type { SysctlPlan } from '../container/sysctl';

type Rec = [tag: string, ...args: string[]];

export function profileRecords(p: ProfilePlan): Rec[] {
  const r: Rec[] = [['scmp-default', String(p.defaultAction)]];
  for (const a of p.arches) r.push(['scmp-arch', a]);
  for (const f of p.flags) r.push(['scmp-flag', f]);
  for (const rule of p.rules) {
    r.push(['scmp-rule', String(rule.action), rule.name, ...rule.conds.map((c) => `${c.index}:${c.op}:${c.a}:${c.b}`)]);
  }
  return r;
}

export function sysctlRecords(s: SysctlPlan, which: 'own' | 'joined'): Rec[] {
  const tag = which === 'own' ? 'sysctl' : 'joined-sysctl';
  return s[which].map((w) => [tag, w.name, w.path, w.value]);
}
