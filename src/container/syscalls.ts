// The one table of syscalls the fake-root filter answers with "success"
// (src/container/fakeroot.ts generates the BPF from it). Numbers come from the
// kernel's syscall tables (arch/x86/entry/syscalls/syscall_{64,32}.tbl,
// include/uapi/asm-generic/unistd.h); test/unit/fakeroot-table.test.ts checks
// them against the headers installed on the build machine.

/** Architectures as the kernel names them in seccomp_data.arch (AUDIT_ARCH_*). */
export const AUDIT_ARCH = {
  x86_64: 0xc000003e,
  i386: 0x40000003,
  aarch64: 0xc00000b7,
} as const;

/** An x32 process reports AUDIT_ARCH_X86_64 and sets this bit in the number. */
export const X32_SYSCALL_BIT = 0x40000000;

export type Arch = 'x86_64' | 'x32' | 'i386' | 'aarch64';

/** What the supervisor emulates for an id call (src/runner/seccomp.c knows these names). */
export type IdOp =
  | 'getuid'
  | 'geteuid'
  | 'getgid'
  | 'getegid'
  | 'getresuid'
  | 'getresgid'
  | 'getgroups'
  | 'setuid'
  | 'setgid'
  | 'setreuid'
  | 'setregid'
  | 'setresuid'
  | 'setresgid'
  | 'setfsuid'
  | 'setfsgid'
  | 'setgroups';

/** What the filter does with a matched call. */
export type Fake =
  /**
   * Returns 0 without running (ERRNO 0), only when the mode argument (index
   * `arg`) is a char or block device: fifos and files must really be made.
   */
  | { kind: 'device-mode'; arg: number }
  /**
   * Answered by the runner's supervisor (SECCOMP_RET_USER_NOTIF) from the
   * process's fake credentials, so a program that reads back what it set
   * (apt's sandbox: setresuid(_apt) then getuid() == _apt) sees it worked.
   * `width` 16: the legacy i386 calls with 16-bit ids.
   */
  | { kind: 'ids'; op: IdOp; width: 16 | 32 }
  /**
   * Answered by the supervisor too: 0 and the owner unchanged, but with what
   * a real chown does to the file besides (the kernel clears its setuid bit,
   * its setgid bit when group-executable and its file capabilities).
   */
  | { kind: 'owner'; op: OwnerOp };

/** The chown calls as the supervisor knows them (src/runner/supervisor.c): where the path, fd and flags are. */
export type OwnerOp = 'chown' | 'lchown' | 'fchown' | 'fchownat';

export interface FakedSyscall {
  name: string;
  fake: Fake;
  /** Syscall number per architecture; absent = the call does not exist there. */
  nr: Partial<Record<Arch, number>>;
}

const owner = (op: OwnerOp): Fake => ({ kind: 'owner', op });
const ids = (op: IdOp, width: 16 | 32 = 32): Fake => ({ kind: 'ids', op, width });

// x32 uses the x86_64 ("common") number plus X32_SYSCALL_BIT for every call
// here; written out per entry so a call with an x32-only number (512+) could
// not be mistaken for one.
function x86(n64: number, n32: number | undefined): Partial<Record<Arch, number>> {
  const nr: Partial<Record<Arch, number>> = { x86_64: n64, x32: (X32_SYSCALL_BIT | n64) >>> 0 };
  if (n32 !== undefined) nr.i386 = n32;
  return nr;
}

export const FAKED_SYSCALLS: FakedSyscall[] = [
  // Ownership: files keep the single mapped owner.
  { name: 'chown', fake: owner('chown'), nr: x86(92, 182) },
  { name: 'fchown', fake: owner('fchown'), nr: { ...x86(93, 95), aarch64: 55 } },
  { name: 'lchown', fake: owner('lchown'), nr: x86(94, 16) },
  { name: 'fchownat', fake: owner('fchownat'), nr: { ...x86(260, 298), aarch64: 54 } },
  { name: 'chown32', fake: owner('chown'), nr: { i386: 212 } },
  { name: 'fchown32', fake: owner('fchown'), nr: { i386: 207 } },
  { name: 'lchown32', fake: owner('lchown'), nr: { i386: 198 } },
  // Identity changes and reads: the process keeps its real id; the supervisor
  // remembers the one it asked for and answers the get* calls with it.
  { name: 'setuid', fake: ids('setuid'), nr: { ...x86(105, undefined), aarch64: 146 } },
  { name: 'setgid', fake: ids('setgid'), nr: { ...x86(106, undefined), aarch64: 144 } },
  { name: 'setreuid', fake: ids('setreuid'), nr: { ...x86(113, undefined), aarch64: 145 } },
  { name: 'setregid', fake: ids('setregid'), nr: { ...x86(114, undefined), aarch64: 143 } },
  { name: 'setgroups', fake: ids('setgroups'), nr: { ...x86(116, undefined), aarch64: 159 } },
  { name: 'setresuid', fake: ids('setresuid'), nr: { ...x86(117, undefined), aarch64: 147 } },
  { name: 'setresgid', fake: ids('setresgid'), nr: { ...x86(119, undefined), aarch64: 149 } },
  { name: 'setfsuid', fake: ids('setfsuid'), nr: { ...x86(122, undefined), aarch64: 151 } },
  { name: 'setfsgid', fake: ids('setfsgid'), nr: { ...x86(123, undefined), aarch64: 152 } },
  { name: 'getuid', fake: ids('getuid'), nr: { ...x86(102, undefined), aarch64: 174 } },
  { name: 'geteuid', fake: ids('geteuid'), nr: { ...x86(107, undefined), aarch64: 175 } },
  { name: 'getgid', fake: ids('getgid'), nr: { ...x86(104, undefined), aarch64: 176 } },
  { name: 'getegid', fake: ids('getegid'), nr: { ...x86(108, undefined), aarch64: 177 } },
  { name: 'getresuid', fake: ids('getresuid'), nr: { ...x86(118, undefined), aarch64: 148 } },
  { name: 'getresgid', fake: ids('getresgid'), nr: { ...x86(120, undefined), aarch64: 150 } },
  { name: 'getgroups', fake: ids('getgroups'), nr: { ...x86(115, undefined), aarch64: 158 } },
  // i386: the original calls take 16-bit ids, the *32 ones full ids.
  { name: 'setuid', fake: ids('setuid', 16), nr: { i386: 23 } },
  { name: 'setgid', fake: ids('setgid', 16), nr: { i386: 46 } },
  { name: 'setreuid', fake: ids('setreuid', 16), nr: { i386: 70 } },
  { name: 'setregid', fake: ids('setregid', 16), nr: { i386: 71 } },
  { name: 'setgroups', fake: ids('setgroups', 16), nr: { i386: 81 } },
  { name: 'setresuid', fake: ids('setresuid', 16), nr: { i386: 164 } },
  { name: 'setresgid', fake: ids('setresgid', 16), nr: { i386: 170 } },
  { name: 'setfsuid', fake: ids('setfsuid', 16), nr: { i386: 138 } },
  { name: 'setfsgid', fake: ids('setfsgid', 16), nr: { i386: 139 } },
  { name: 'getuid', fake: ids('getuid', 16), nr: { i386: 24 } },
  { name: 'geteuid', fake: ids('geteuid', 16), nr: { i386: 49 } },
  { name: 'getgid', fake: ids('getgid', 16), nr: { i386: 47 } },
  { name: 'getegid', fake: ids('getegid', 16), nr: { i386: 50 } },
  { name: 'getresuid', fake: ids('getresuid', 16), nr: { i386: 165 } },
  { name: 'getresgid', fake: ids('getresgid', 16), nr: { i386: 171 } },
  { name: 'getgroups', fake: ids('getgroups', 16), nr: { i386: 80 } },
  { name: 'setuid32', fake: ids('setuid'), nr: { i386: 213 } },
  { name: 'setgid32', fake: ids('setgid'), nr: { i386: 214 } },
  { name: 'setreuid32', fake: ids('setreuid'), nr: { i386: 203 } },
  { name: 'setregid32', fake: ids('setregid'), nr: { i386: 204 } },
  { name: 'setgroups32', fake: ids('setgroups'), nr: { i386: 206 } },
  { name: 'setresuid32', fake: ids('setresuid'), nr: { i386: 208 } },
  { name: 'setresgid32', fake: ids('setresgid'), nr: { i386: 210 } },
  { name: 'setfsuid32', fake: ids('setfsuid'), nr: { i386: 215 } },
  { name: 'setfsgid32', fake: ids('setfsgid'), nr: { i386: 216 } },
  { name: 'getuid32', fake: ids('getuid'), nr: { i386: 199 } },
  { name: 'geteuid32', fake: ids('geteuid'), nr: { i386: 201 } },
  { name: 'getgid32', fake: ids('getgid'), nr: { i386: 200 } },
  { name: 'getegid32', fake: ids('getegid'), nr: { i386: 202 } },
  { name: 'getresuid32', fake: ids('getresuid'), nr: { i386: 209 } },
  { name: 'getresgid32', fake: ids('getresgid'), nr: { i386: 211 } },
  { name: 'getgroups32', fake: ids('getgroups'), nr: { i386: 205 } },
  // Device nodes cannot be made in a user namespace: pretend, create nothing.
  { name: 'mknod', fake: { kind: 'device-mode', arg: 1 }, nr: x86(133, 14) },
  { name: 'mknodat', fake: { kind: 'device-mode', arg: 2 }, nr: { ...x86(259, 297), aarch64: 33 } },
];

/** Which syscall tables a process on this host can use, by Node's process.arch. */
export const HOST_ARCHES: Record<string, { audit: keyof typeof AUDIT_ARCH; tables: Arch[] }[]> = {
  // 64-bit, x32 (same audit arch, X32 bit in the number) and i386 via int 0x80.
  x64: [
    { audit: 'x86_64', tables: ['x86_64', 'x32'] },
    { audit: 'i386', tables: ['i386'] },
  ],
  // 32-bit arm (AUDIT_ARCH_ARM) compat tasks are not covered: they pass unfiltered.
  arm64: [{ audit: 'aarch64', tables: ['aarch64'] }],
};
