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

/** What the filter does with a matched call. */
export type Fake =
  | { kind: 'always' }
  /** Only when the mode argument (index `arg`) is a char or block device: fifos and files must really be made. */
  | { kind: 'device-mode'; arg: number };

export interface FakedSyscall {
  name: string;
  fake: Fake;
  /** Syscall number per architecture; absent = the call does not exist there. */
  nr: Partial<Record<Arch, number>>;
}

const ALWAYS: Fake = { kind: 'always' };

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
  { name: 'chown', fake: ALWAYS, nr: x86(92, 182) },
  { name: 'fchown', fake: ALWAYS, nr: { ...x86(93, 95), aarch64: 55 } },
  { name: 'lchown', fake: ALWAYS, nr: x86(94, 16) },
  { name: 'fchownat', fake: ALWAYS, nr: { ...x86(260, 298), aarch64: 54 } },
  { name: 'chown32', fake: ALWAYS, nr: { i386: 212 } },
  { name: 'fchown32', fake: ALWAYS, nr: { i386: 207 } },
  { name: 'lchown32', fake: ALWAYS, nr: { i386: 198 } },
  // Identity changes: the process stays the single mapped id.
  { name: 'setuid', fake: ALWAYS, nr: { ...x86(105, 23), aarch64: 146 } },
  { name: 'setgid', fake: ALWAYS, nr: { ...x86(106, 46), aarch64: 144 } },
  { name: 'setreuid', fake: ALWAYS, nr: { ...x86(113, 70), aarch64: 145 } },
  { name: 'setregid', fake: ALWAYS, nr: { ...x86(114, 71), aarch64: 143 } },
  { name: 'setgroups', fake: ALWAYS, nr: { ...x86(116, 81), aarch64: 159 } },
  { name: 'setresuid', fake: ALWAYS, nr: { ...x86(117, 164), aarch64: 147 } },
  { name: 'setresgid', fake: ALWAYS, nr: { ...x86(119, 170), aarch64: 149 } },
  { name: 'setfsuid', fake: ALWAYS, nr: { ...x86(122, 138), aarch64: 151 } },
  { name: 'setfsgid', fake: ALWAYS, nr: { ...x86(123, 139), aarch64: 152 } },
  { name: 'setuid32', fake: ALWAYS, nr: { i386: 213 } },
  { name: 'setgid32', fake: ALWAYS, nr: { i386: 214 } },
  { name: 'setreuid32', fake: ALWAYS, nr: { i386: 203 } },
  { name: 'setregid32', fake: ALWAYS, nr: { i386: 204 } },
  { name: 'setgroups32', fake: ALWAYS, nr: { i386: 206 } },
  { name: 'setresuid32', fake: ALWAYS, nr: { i386: 208 } },
  { name: 'setresgid32', fake: ALWAYS, nr: { i386: 210 } },
  { name: 'setfsuid32', fake: ALWAYS, nr: { i386: 215 } },
  { name: 'setfsgid32', fake: ALWAYS, nr: { i386: 216 } },
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
