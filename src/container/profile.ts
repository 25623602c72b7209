// linux.seccomp → the profile the runner builds with libseccomp at create and
// loads last before execve (src/runner/profile.c). Everything is decided
// here: actions with their errno, which rules to add (runc's semantics), the
// attributes. The runner keeps syscall *names*: libseccomp resolves them per
// architecture, and skips (with a note) the ones it does not know.
import { UserError } from '../errors';
import * as log from '../log';
import {
  ACTIONS_WITH_DATA,
  EPERM,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHES,
  SECCOMP_FLAGS,
  SECCOMP_MAX_ARGS,
  SECCOMP_NOOP_FLAGS,
  SECCOMP_OPERATORS,
} from '../spec/seccomp';
import type { Seccomp } from '../spec/types';
import type { ProfileCond, ProfilePlan, ProfileRule } from '../runner/plan';

const FIELD = 'linux.seccomp';
/** What a syscall name looks like on every architecture libseccomp knows. */
const SYSCALL_NAME = /^[A-Za-z0-9_]{1,64}$/;

/** The action value of an OCI action name with its errnoRet. */
export function actionValue(name: string, errnoRet: number | undefined | null, field: string): number {
  const base = SECCOMP_ACTIONS[name];
  // applyPolicy refuses NOTIFY and the schema every other name: this is a guard.
  if (base === undefined) throw new UserError(field, `${name} is not supported`);
  if (!ACTIONS_WITH_DATA.includes(name)) return base;
  const data = errnoRet ?? EPERM;
  // The kernel keeps 16 bits of data (SECCOMP_RET_DATA); more would be cut silently.
  if (data > 0xffff) throw new UserError(`${field}: errnoRet`, `${data} does not fit in 16 bits`);
  return (base | data) >>> 0;
}

/** A number as it reached us from JSON: above 2^53 it may have been rounded, so refuse it rather than filter on another value. */
function exact(v: number | undefined | null, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (!Number.isSafeInteger(v) || v < 0)
    throw new UserError(field, `${v} cannot be used exactly (values above 2^53-1 lose precision in JSON)`);
  return BigInt(v);
}

/** The profile, or undefined when the config has none. */
export function planProfile(s: Seccomp | undefined | null): ProfilePlan | undefined {
  if (!s) return undefined;
  const defaultAction = actionValue(s.defaultAction, s.defaultErrnoRet, `${FIELD}.defaultAction`);
  const arches = (s.architectures ?? []).map((a, i) => {
    const name = SECCOMP_ARCHES[a];
    if (!name) throw new UserError(`${FIELD}.architectures[${i}]`, `${a} is not supported (libseccomp 2.5 does not know it)`);
    return name;
  });
  const flags: string[] = [];
  for (const f of s.flags ?? []) {
    if (SECCOMP_NOOP_FLAGS.includes(f)) log.debug(`${FIELD}.flags: ${f} has no effect without SCMP_ACT_NOTIFY`);
    else if (SECCOMP_FLAGS[f]) flags.push(SECCOMP_FLAGS[f]);
    else throw new UserError(`${FIELD}.flags`, `${f} is not supported`);
  }
  const rules: ProfileRule[] = [];
  (s.syscalls ?? []).forEach((call, i) => {
    const field = `${FIELD}.syscalls[${i}]`;
    const action = actionValue(call.action, call.errnoRet, field);
    // libseccomp refuses a rule whose action is the default one; it would change nothing (runc skips it too).
    if (action === defaultAction) return;
    const conds = (call.args ?? []).map((a, j): ProfileCond => {
      const f = `${field}.args[${j}]`;
      if (a.index >= SECCOMP_MAX_ARGS) throw new UserError(`${f}.index`, `${a.index} is not an argument (0-${SECCOMP_MAX_ARGS - 1})`);
      const op = SECCOMP_OPERATORS[a.op];
      if (op === undefined) throw new UserError(`${f}.op`, `${a.op} is not supported`);
      return { index: a.index, op, a: exact(a.value, `${f}.value`), b: exact(a.valueTwo, `${f}.valueTwo`) };
    });
    // runc's rule: conditions on distinct arguments are ANDed in one rule;
    // when one argument is named twice, each condition becomes its own rule
    // (ORed), since libseccomp cannot AND two comparisons of one argument.
    const counts = new Map<number, number>();
    for (const c of conds) counts.set(c.index, (counts.get(c.index) ?? 0) + 1);
    const sets = [...counts.values()].some((n) => n > 1) ? conds.map((c) => [c]) : [conds];
    for (const name of call.names ?? []) {
      if (name === '') throw new UserError(`${field}.names`, 'an empty name is not a syscall');
      // Not a syscall name of any architecture: skipped like the names
      // libseccomp does not know, and never sent on (the runner's notes are lines).
      if (!SYSCALL_NAME.test(name)) {
        log.debug(`seccomp: unknown syscall ${JSON.stringify(name)} skipped`);
        continue;
      }
      for (const set of sets) rules.push({ action, name, conds: set });
    }
  });
  // A binary tree of syscall numbers instead of a linear list for big profiles (runc does the same past 32 entries).
  if ((s.syscalls ?? []).length > 32) flags.push('optimize');
  return { defaultAction, arches, flags, rules };
}
