// The generated fake-root filter, run through a classic-BPF interpreter per
// architecture: chown calls are faked (ERRNO 0), id calls go to the
// supervisor (USER_NOTIF) with a dispatch rule each, everything else is
// allowed, mknod fakes only device nodes, and a number handled on one
// architecture is not handled on another (a 32-bit program gets its own table).
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeProgram,
  encodeProgram,
  fakerootProgram,
  idRules,
  RET_FAKE,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_USER_NOTIF,
  type Insn,
} from '../../src/container/fakeroot';
import { AUDIT_ARCH, FAKED_SYSCALLS, HOST_ARCHES, X32_SYSCALL_BIT, type Arch } from '../../src/container/syscalls';
import { runBpf, seccompData } from '../helpers/bpf';

const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFSOCK = 0o140000;

// Which audit arch each table runs under.
const AUDIT_OF: Record<Arch, number> = {
  x86_64: AUDIT_ARCH.x86_64,
  x32: AUDIT_ARCH.x86_64,
  i386: AUDIT_ARCH.i386,
  aarch64: AUDIT_ARCH.aarch64,
};
const HOSTS: [string, Arch[]][] = [
  ['x64', ['x86_64', 'x32', 'i386']],
  ['arm64', ['aarch64']],
];

function run(prog: Insn[], arch: number, nr: number, args: number[] = []): number {
  return runBpf(prog, seccompData({ nr, arch, args }));
}

describe.each(HOSTS)('fake-root filter for a %s host', (host, tables) => {
  const prog = fakerootProgram(host)!;

  it('is generated and survives the byte encoding the runner installs', () => {
    expect(prog).not.toBeNull();
    expect(prog.length).toBeLessThan(256);
    expect(decodeProgram(encodeProgram(prog))).toEqual(prog);
  });

  for (const table of tables) {
    const audit = AUDIT_OF[table];
    const faked = FAKED_SYSCALLS.filter((s) => s.nr[table] !== undefined);
    const fakedNrs = new Set(faked.map((s) => s.nr[table]!));

    it(`${table}: every chown call goes to the supervisor (it clears setuid/setgid as a real chown does)`, () => {
      const rules = idRules(host);
      const chowns = faked.filter((s) => /chown/.test(s.name));
      expect(chowns.length).toBe({ i386: 7, aarch64: 2 }[table as string] ?? 4);
      for (const s of chowns) {
        const nr = s.nr[table]!;
        expect(s.fake.kind, s.name).toBe('owner');
        expect(run(prog, audit, nr), `${table} ${s.name}`).toBe(SECCOMP_RET_USER_NOTIF);
        const op = (s.fake as { op: string }).op;
        expect(op).toBe(s.name.replace(/32$/, ''));
        expect(rules.filter((r) => r.arch === audit && r.nr === nr)).toEqual([{ arch: audit, nr, op, width: 32 }]);
      }
    });

    it(`${table}: every id call goes to the supervisor, which has the rule for it`, () => {
      const rules = idRules(host);
      const idCalls = faked.filter((s) => s.fake.kind === 'ids');
      expect(idCalls.length).toBeGreaterThanOrEqual(16);
      for (const s of idCalls) {
        const nr = s.nr[table]!;
        expect(run(prog, audit, nr), `${table} ${s.name}`).toBe(SECCOMP_RET_USER_NOTIF);
        const f = s.fake as { op: string; width: number };
        expect(rules.filter((r) => r.arch === audit && r.nr === nr)).toEqual([{ arch: audit, nr, op: f.op, width: f.width }]);
      }
    });

    it(`${table}: mknod/mknodat fake char and block devices only`, () => {
      for (const s of faked.filter((x) => x.fake.kind === 'device-mode')) {
        const arg = (s.fake as { arg: number }).arg;
        const withMode = (mode: number): number[] => Object.assign([0, 0, 0, 0], { [arg]: mode });
        expect(run(prog, audit, s.nr[table]!, withMode(S_IFCHR | 0o666)), `${s.name} S_IFCHR`).toBe(RET_FAKE);
        expect(run(prog, audit, s.nr[table]!, withMode(S_IFBLK | 0o660)), `${s.name} S_IFBLK`).toBe(RET_FAKE);
        for (const m of [S_IFREG | 0o644, S_IFIFO | 0o600, S_IFSOCK | 0o755, 0o644])
          expect(run(prog, audit, s.nr[table]!, withMode(m)), `${s.name} mode ${m.toString(8)}`).toBe(SECCOMP_RET_ALLOW);
        // The mode is the argument the table names, not a neighbour.
        const other = Object.assign([0, 0, 0, 0], { [arg === 1 ? 2 : 1]: S_IFCHR });
        expect(run(prog, audit, s.nr[table]!, other)).toBe(SECCOMP_RET_ALLOW);
      }
    });

    it(`${table}: every other number is allowed and has no supervisor rule`, () => {
      const rules = idRules(host);
      const base = table === 'x32' ? X32_SYSCALL_BIT : 0;
      for (let n = 0; n < 600; n++) {
        const nr = (base | n) >>> 0;
        if (fakedNrs.has(nr)) continue;
        // On x86_64's audit arch the x32 numbers are faked too (same audit arch).
        if (table === 'x86_64' && FAKED_SYSCALLS.some((s) => s.nr.x32 === nr)) continue;
        expect(run(prog, audit, nr, [S_IFCHR, S_IFCHR, S_IFCHR]), `${table} nr ${n}`).toBe(SECCOMP_RET_ALLOW);
        expect(rules.some((r) => r.arch === audit && r.nr === nr)).toBe(false);
      }
    });
  }

  it('lets every call of an architecture it has no table for through', () => {
    for (const arch of [0x40000028 /* ARM */, 0x80000016 /* S390X */, 0xc0000028, 0]) {
      if (Object.values(AUDIT_ARCH).includes(arch as never)) continue;
      for (let n = 0; n < 450; n++) expect(run(prog, arch, n, [S_IFCHR, S_IFCHR, S_IFCHR])).toBe(SECCOMP_RET_ALLOW);
    }
  });
});

describe('cross-architecture numbers', () => {
  const prog = fakerootProgram('x64')!;
  it('an i386 program calling a number that is setuid on x86_64 (105 = i386 getitimer) is let through', () => {
    expect(run(prog, AUDIT_ARCH.i386, 105)).toBe(SECCOMP_RET_ALLOW);
    expect(run(prog, AUDIT_ARCH.x86_64, 105)).toBe(SECCOMP_RET_USER_NOTIF);
  });
  it('an x86_64 program calling i386 setuid32 (213 = x86_64 epoll_create) is let through', () => {
    expect(run(prog, AUDIT_ARCH.x86_64, 213)).toBe(SECCOMP_RET_ALLOW);
    expect(run(prog, AUDIT_ARCH.i386, 213)).toBe(SECCOMP_RET_USER_NOTIF);
  });
  it('i386 16-bit and 32-bit id calls are told apart for the supervisor', () => {
    const rules = idRules('x64');
    expect(rules.find((r) => r.arch === AUDIT_ARCH.i386 && r.nr === 23)).toMatchObject({ op: 'setuid', width: 16 });
    expect(rules.find((r) => r.arch === AUDIT_ARCH.i386 && r.nr === 213)).toMatchObject({ op: 'setuid', width: 32 });
    expect(rules.find((r) => r.arch === AUDIT_ARCH.x86_64 && r.nr === (X32_SYSCALL_BIT | 102) >>> 0)).toMatchObject({
      op: 'getuid',
      width: 32,
    });
  });
  it('x32 numbers carry the x32 bit: 92|bit is faked (chown), 92 alone is x86_64 chown', () => {
    expect(run(prog, AUDIT_ARCH.x86_64, X32_SYSCALL_BIT | 92)).toBe(SECCOMP_RET_USER_NOTIF);
    expect(idRules('x64').find((r) => r.arch === AUDIT_ARCH.x86_64 && r.nr === (X32_SYSCALL_BIT | 92) >>> 0)).toMatchObject({
      op: 'chown',
    });
    expect(run(prog, AUDIT_ARCH.i386, X32_SYSCALL_BIT | 92)).toBe(SECCOMP_RET_ALLOW);
  });
});

describe('host architectures', () => {
  it('an unknown host gets no filter', () => {
    expect(fakerootProgram('riscv64')).toBeNull();
    expect(fakerootProgram('s390x')).toBeNull();
  });
  it('every table a host uses has numbers for the core calls', () => {
    for (const sections of Object.values(HOST_ARCHES))
      for (const s of sections)
        for (const t of s.tables)
          for (const name of ['fchown', 'fchownat', 'setresuid', 'setresgid', 'setgroups', 'mknodat'])
            expect(
              FAKED_SYSCALLS.some((x) => x.name === name && x.nr[t] !== undefined),
              `${t} ${name}`,
            ).toBe(true);
  });
});

// The table against the kernel headers of this machine (linux-libc-dev), when present.
const HEADERS: [Arch, string][] = [
  ['x86_64', '/usr/include/x86_64-linux-gnu/asm/unistd_64.h'],
  ['i386', '/usr/include/x86_64-linux-gnu/asm/unistd_32.h'],
  ['x32', '/usr/include/x86_64-linux-gnu/asm/unistd_x32.h'],
  ['aarch64', '/usr/include/asm-generic/unistd.h'],
];
describe.each(HEADERS)('table vs kernel headers: %s', (arch, file) => {
  it(`matches ${file}`, () => {
    // Debian's linux-libc-dev (installed with libc6-dev by scripts/setup) ships every one of these headers.
    expect(fs.existsSync(file), `${file} is missing: run scripts/setup`).toBe(true);
    const text = fs.readFileSync(file, 'utf8');
    const defined = new Map<string, number>();
    for (const m of text.matchAll(/^#define __NR(?:3264)?_(\w+)\s+(.+)$/gm)) {
      const v = m[2].trim();
      const plain = /^(\d+)$/.exec(v);
      const x32 = /^\(__X32_SYSCALL_BIT \+ (\d+)\)$/.exec(v);
      if (plain) defined.set(m[1], Number(plain[1]));
      else if (x32) defined.set(m[1], (X32_SYSCALL_BIT | Number(x32[1])) >>> 0);
    }
    // Every number the table gives this arch is the header's; every call of the
    // table that the header defines for this arch is covered.
    for (const s of FAKED_SYSCALLS) if (s.nr[arch] !== undefined) expect(s.nr[arch], `${arch} ${s.name}`).toBe(defined.get(s.name));
    for (const name of new Set(FAKED_SYSCALLS.map((s) => s.name)))
      if (defined.has(name))
        expect(
          FAKED_SYSCALLS.some((s) => s.name === name && s.nr[arch] !== undefined),
          `${arch} ${name} missing`,
        ).toBe(true);
  });
});
