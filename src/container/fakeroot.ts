// Fake root: in a user namespace that maps a single uid or gid, package
// managers and useradd fail on chown/setgroups/setresuid to ids that do not
// exist there (buildah #3345: "setgroups 65534 failed"). A seccomp filter,
// installed by the runner right before execve, makes those calls succeed
// without running them: device mknod gets 0 from the filter itself; the
// set*id/get*id calls go to a supervisor in the runner (USER_NOTIF) that
// keeps fake credentials per process, because programs read back what they
// set (apt's sandbox: setresuid(_apt) then getuid() == _apt, or it refuses).
// chown goes to the supervisor too: it answers 0 and leaves the owner, but
// clears what a real chown clears (setuid, setgid, file capabilities), so a
// setuid bit never outlives a chown. Files keep the single owner, the
// kernel's ids do not change, device nodes are not created.
//
// The classic-BPF program and the supervisor's dispatch table are generated
// here from the one table in syscalls.ts; the runner installs the bytes as
// they are (records `seccomp HEX`, `fakeids AUDIT:NR:OP:WIDTH...`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as log from '../log';
import type { OciConfig } from '../spec/types';
import type { FakerootPlan, IdPlan, IdRange, IdRule } from '../runner/plan';
import { AUDIT_ARCH, FAKED_SYSCALLS, HOST_ARCHES, type Arch, type Fake } from './syscalls';

export const FAKEROOT_ANNOTATION = 'ch-run-oci.fakeroot';
export type FakerootMode = 'auto' | 'always' | 'never';

// Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
export const BPF = {
  LD_W_ABS: 0x20,
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  ALU_AND_K: 0x54,
  RET_K: 0x06,
} as const;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ERRNO = 0x00050000;
/** Suspends the call until the supervisor (the listener fd's reader) answers it. */
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
/** ERRNO with data 0: the call returns 0 ("success") and is never executed. */
export const RET_FAKE = SECCOMP_RET_ERRNO | 0;

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
export const DATA_NR = 0;
export const DATA_ARCH = 4;
/** The low 32 bits of args[i] (little-endian hosts only: x86 and aarch64 are). */
export const dataArgLow = (i: number): number => 16 + 8 * i;

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// Instructions with symbolic jump targets, resolved once the layout is known.
type Target = string | null; // null: fall through
interface Pending {
  code: number;
  k: number;
  jt?: Target;
  jf?: Target;
}

class Assembler {
  private code: Pending[] = [];
  private labels = new Map<string, number>();
  label(name: string): void {
    this.labels.set(name, this.code.length);
  }
  emit(i: Pending): void {
    this.code.push(i);
  }
  resolve(): Insn[] {
    return this.code.map((p, at) => {
      const rel = (t: Target | undefined): number => {
        if (t === undefined || t === null) return 0;
        const to = this.labels.get(t);
        if (to === undefined) throw new Error(`BPF: undefined label ${t}`);
        const off = to - at - 1;
        // Classic BPF jumps only forward, by at most 255 for conditionals.
        if (off < 0 || off > 255) throw new Error(`BPF: jump to ${t} out of range (${off})`);
        return off;
      };
      return { code: p.code, k: p.k >>> 0, jt: rel(p.jt), jf: rel(p.jf) };
    });
  }
}

/** The filter for the given audit architectures (by default: this host's), or null if the host is not covered. */
export function fakerootProgram(hostArch: string = process.arch): Insn[] | null {
  const sections = HOST_ARCHES[hostArch];
  if (!sections) return null;
  const a = new Assembler();
  a.emit({ code: BPF.LD_W_ABS, k: DATA_ARCH });
  for (const s of sections) a.emit({ code: BPF.JMP_JEQ_K, k: AUDIT_ARCH[s.audit], jt: `arch:${s.audit}` });
  // An architecture we have no numbers for: never guess, let the call through.
  a.emit({ code: BPF.RET_K, k: SECCOMP_RET_ALLOW });

  const modeArgs = new Set<number>();
  for (const s of sections) {
    a.label(`arch:${s.audit}`);
    a.emit({ code: BPF.LD_W_ABS, k: DATA_NR });
    for (const table of s.tables) {
      for (const sc of FAKED_SYSCALLS) {
        const nr = sc.nr[table as Arch];
        if (nr === undefined) continue;
        const to = fakeLabel(sc.fake);
        if (sc.fake.kind === 'device-mode') modeArgs.add(sc.fake.arg);
        a.emit({ code: BPF.JMP_JEQ_K, k: nr, jt: to });
      }
    }
    a.emit({ code: BPF.RET_K, k: SECCOMP_RET_ALLOW });
  }
  // mknod/mknodat: fake only char and block devices; files and fifos are made for real.
  for (const arg of [...modeArgs].sort()) {
    a.label(`mode:${arg}`);
    a.emit({ code: BPF.LD_W_ABS, k: dataArgLow(arg) });
    a.emit({ code: BPF.ALU_AND_K, k: S_IFMT });
    a.emit({ code: BPF.JMP_JEQ_K, k: S_IFCHR, jt: 'fake' });
    a.emit({ code: BPF.JMP_JEQ_K, k: S_IFBLK, jt: 'fake' });
    a.emit({ code: BPF.RET_K, k: SECCOMP_RET_ALLOW });
  }
  a.label('fake');
  a.emit({ code: BPF.RET_K, k: RET_FAKE });
  a.label('notify');
  a.emit({ code: BPF.RET_K, k: SECCOMP_RET_USER_NOTIF });
  return a.resolve();
}

function fakeLabel(f: Fake): string {
  if (f.kind === 'ids' || f.kind === 'owner') return 'notify';
  return `mode:${f.arg}`;
}

export function idRules(hostArch: string = process.arch): IdRule[] {
  const out: IdRule[] = [];
  for (const s of HOST_ARCHES[hostArch] ?? [])
    for (const table of s.tables)
      for (const sc of FAKED_SYSCALLS) {
        const nr = sc.nr[table];
        if (nr === undefined) continue;
        if (sc.fake.kind === 'ids') out.push({ arch: AUDIT_ARCH[s.audit], nr, op: sc.fake.op, width: sc.fake.width });
        if (sc.fake.kind === 'owner') out.push({ arch: AUDIT_ARCH[s.audit], nr, op: sc.fake.op, width: 32 });
      }
  return out;
}

/** struct sock_filter[] as the kernel reads it (host byte order: little-endian). */
export function encodeProgram(prog: Insn[]): Buffer {
  const b = Buffer.alloc(prog.length * 8);
  prog.forEach((i, n) => {
    b.writeUInt16LE(i.code, n * 8);
    b.writeUInt8(i.jt, n * 8 + 2);
    b.writeUInt8(i.jf, n * 8 + 3);
    b.writeUInt32LE(i.k, n * 8 + 4);
  });
  return b;
}

export function decodeProgram(b: Buffer): Insn[] {
  const out: Insn[] = [];
  for (let o = 0; o + 8 <= b.length; o += 8)
    out.push({ code: b.readUInt16LE(o), jt: b.readUInt8(o + 2), jf: b.readUInt8(o + 3), k: b.readUInt32LE(o + 4) });
  return out;
}

export function fakerootMode(config: OciConfig): FakerootMode {
  const v = config.annotations?.[FAKEROOT_ANNOTATION];
  // applyPolicy has already refused other values.
  return v === 'always' || v === 'never' ? v : 'auto';
}

const total = (m: IdRange[]): number => m.reduce((n, r) => n + r.count, 0);

/** A user namespace with one uid or one gid: where chown and set*id to other ids cannot work. */
export function isSingleId(ids: Pick<IdPlan, 'uidMap' | 'gidMap'>): boolean {
  return total(ids.uidMap) <= 1 || total(ids.gidMap) <= 1;
}

/**
 * Decides whether the container gets the fake-root filter (undefined = none).
 * `auto`: only in a single-id user namespace.
 */
export function planFakeroot(
  config: OciConfig,
  ids: Pick<IdPlan, 'uidMap' | 'gidMap'>,
  hostArch: string = process.arch,
  enclosing: () => boolean = enclosingFakeroot,
): FakerootPlan | undefined {
  const mode = fakerootMode(config);
  const single = isSingleId(ids);
  if (mode === 'never') {
    if (single) log.debug(`fakeroot: off (${FAKEROOT_ANNOTATION}=never): chown and set*id to unmapped ids fail`);
    return undefined;
  }
  if (mode === 'auto' && !single) return undefined;
  const prog = fakerootProgram(hostArch);
  if (!prog) {
    log.debug(`fakeroot: not available on ${hostArch} (no syscall table): id-changing calls fail as the kernel says`);
    return undefined;
  }
  // Nested (a build inside a one-id container that has our fake root): the
  // kernel allows one listener per filter chain (EBUSY), and the enclosing
  // filter and supervisor already answer these calls for every descendant,
  // the new container's processes included. Rely on them.
  if (enclosing()) {
    log.debug('fakeroot: the enclosing fake root already answers chown, set*id and mknod here; not installed again');
    return undefined;
  }
  const why = mode === 'always' ? `${FAKEROOT_ANNOTATION}=always` : 'single-id user namespace';
  log.debug(`fakeroot: active (${why}): chown, set*id, setgroups and device mknod succeed without effect`);
  // What a build commits from here: ownership cannot be recorded with one id mapped (issue 17's measurements).
  log.debug(
    'fakeroot: owners cannot be recorded with one id mapped: every file the container makes is owned by the mapped id (0:0 in an image built from it)',
  );
  return { program: encodeProgram(prog), idRules: idRules(hostArch) };
}

/** An id no single-id namespace maps: a real chown to it fails with EINVAL. */
const PROBE_UID = 0x7ffffff0;

/**
 * Whether this process runs under a fake root already (ours, one level up):
 * a seccomp filter is installed and a chown of our own file to an id that
 * cannot be mapped "succeeds" while the owner stays the same. A real chown
 * (the id is mapped after all) changes the owner and says no; so does any
 * error. Only asked when a fake root would be installed.
 */
export function enclosingFakeroot(): boolean {
  let status: string;
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    return false;
  }
  const filters = /^Seccomp_filters:\s+(\d+)$/m.exec(status);
  if (!filters || Number(filters[1]) === 0) return false;
  let dir: string | undefined;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ch-run-oci-probe-'));
    const fd = fs.openSync(path.join(dir, 'f'), 'wx', 0o600);
    try {
      const before = fs.fstatSync(fd).uid;
      fs.fchownSync(fd, PROBE_UID, -1);
      return fs.fstatSync(fd).uid === before;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
