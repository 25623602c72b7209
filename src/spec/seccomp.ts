// What ch-run-oci can apply of a `linux.seccomp` profile: the one list of
// actions, operators, architectures and flags, read by the policy table, the
// `features` document and the profile planner (src/container/profile.ts).
// The runner loads the profile with libseccomp 2.5 (Debian 12's, linked
// statically), so the architectures are the ones that version knows.
import type { Seccomp } from './types';

/** SCMP_ACT_* → libseccomp's action value (the kernel's SECCOMP_RET_*); ERRNO and TRACE carry 16 data bits. */
export const SECCOMP_ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: 0x00000000,
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
};
/** Actions whose value carries errnoRet (EPERM when absent, as runc). */
export const ACTIONS_WITH_DATA: readonly string[] = ['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'];
export const EPERM = 1;

/**
 * Refused: the kernel lets a task have one notification listener in its
 * whole filter chain, which the fake-root supervisor already holds in a
 * single-id container, and our profile is loaded at `start`, after the runner
 * that would hand the fd over is gone (runc sends it at create).
 */
export const NOTIFY = 'SCMP_ACT_NOTIFY';

/** SCMP_CMP_* → enum scmp_compare. */
export const SECCOMP_OPERATORS: Readonly<Record<string, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** SCMP_ARCH_* → libseccomp's name for it (seccomp_arch_resolve_name); only those libseccomp 2.5 knows. */
export const SECCOMP_ARCHES: Readonly<Record<string, string>> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
};

/** Every flag the runtime-spec names (features: knownFlags). */
export const SECCOMP_KNOWN_FLAGS: readonly string[] = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];
/** Flag → the runner's name for the libseccomp attribute it sets (features: supportedFlags). */
export const SECCOMP_FLAGS: Readonly<Record<string, string>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 'tsync',
  SECCOMP_FILTER_FLAG_LOG: 'log',
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 'spec_allow',
};
/** Accepted without effect: it changes only how a notification listener waits, and there is none (NOTIFY is refused). */
export const SECCOMP_NOOP_FLAGS: readonly string[] = ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'];

/** Syscall arguments a condition may name (seccomp_data.args[0..5]). */
export const SECCOMP_MAX_ARGS = 6;

/** JSON pointers of the profile's uses of NOTIFY (policy: refused). */
export function notifyUses(s: Seccomp | undefined): string[] {
  if (!s) return [];
  const out = s.defaultAction === NOTIFY ? ['/linux/seccomp/defaultAction'] : [];
  (s.syscalls ?? []).forEach((c, i) => {
    if (c?.action === NOTIFY) out.push(`/linux/seccomp/syscalls/${i}/action`);
  });
  return out;
}

/** JSON pointers of architectures libseccomp 2.5 does not know. */
export function unknownArches(s: Seccomp | undefined): string[] {
  return (s?.architectures ?? []).flatMap((a, i) => (a in SECCOMP_ARCHES ? [] : [`/linux/seccomp/architectures/${i}`]));
}

/** JSON pointers of conditions on an argument past the sixth. */
export function badArgIndexes(s: Seccomp | undefined): string[] {
  const out: string[] = [];
  (s?.syscalls ?? []).forEach((c, i) =>
    (c?.args ?? []).forEach((a, j) => {
      if (a.index >= SECCOMP_MAX_ARGS) out.push(`/linux/seccomp/syscalls/${i}/args/${j}/index`);
    }),
  );
  return out;
}
