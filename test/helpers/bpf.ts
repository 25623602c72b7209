// A small classic-BPF interpreter for seccomp programs: enough to run the
// fake-root filter over a struct seccomp_data and see what the kernel would
// return. Supports the instruction classes seccomp accepts (LD/LDX/ST/STX,
// ALU, JMP, RET, MISC); anything else throws, so a generator bug that emits
// an instruction we do not model is a test failure, not a silent pass.
import type { Insn } from '../../src/container/fakeroot';

export interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  /** Up to six arguments; each is a u64 in the kernel. */
  args?: (number | bigint)[];
}

/** struct seccomp_data as bytes, little-endian (x86, aarch64). */
export function seccompData(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.ip ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  return b;
}

const CLS = (c: number): number => c & 0x07;
const SIZE = (c: number): number => c & 0x18;
const MODE = (c: number): number => c & 0xe0;
const OP = (c: number): number => c & 0xf0;
const SRC = (c: number): number => c & 0x08;

/** Runs `prog` on `data`; returns the 32-bit value of the RET that ends it. */
export function runBpf(prog: Insn[], data: Buffer): number {
  if (prog.length === 0 || prog.length > 4096) throw new Error(`bad program length ${prog.length}`);
  let A = 0;
  let X = 0;
  const M = new Array<number>(16).fill(0);
  for (let pc = 0, steps = 0; pc < prog.length; pc++, steps++) {
    if (steps > prog.length) throw new Error('BPF: backward jump?');
    const { code, jt, jf, k } = prog[pc];
    switch (CLS(code)) {
      case 0x00: // LD
      case 0x01: {
        // LDX
        let v: number;
        if (MODE(code) === 0x20) {
          // ABS: seccomp allows only 32-bit, aligned, in-bounds loads.
          if (SIZE(code) !== 0x00) throw new Error('BPF: seccomp loads must be 32-bit');
          if (k % 4 || k + 4 > data.length) throw new Error(`BPF: bad load offset ${k}`);
          v = data.readUInt32LE(k);
        } else if (MODE(code) === 0x00)
          v = k; // IMM
        else if (MODE(code) === 0x60)
          v = M[k]; // MEM
        else if (MODE(code) === 0x80)
          v = data.length; // LEN
        else throw new Error(`BPF: unsupported load mode ${code.toString(16)}`);
        if (CLS(code) === 0x00) A = v >>> 0;
        else X = v >>> 0;
        break;
      }
      case 0x02: // ST
        M[k] = A;
        break;
      case 0x03: // STX
        M[k] = X;
        break;
      case 0x04: {
        // ALU
        const v = SRC(code) ? X : k;
        switch (OP(code)) {
          case 0x00:
            A = (A + v) >>> 0;
            break;
          case 0x10:
            A = (A - v) >>> 0;
            break;
          case 0x20:
            A = Math.imul(A, v) >>> 0;
            break;
          case 0x30:
            if (v === 0) return 0;
            A = Math.floor(A / v) >>> 0;
            break;
          case 0x40:
            A = (A | v) >>> 0;
            break;
          case 0x50:
            A = (A & v) >>> 0;
            break;
          case 0x60:
            A = (A << v) >>> 0;
            break;
          case 0x70:
            A = A >>> v;
            break;
          case 0x80:
            A = -A >>> 0;
            break;
          case 0xa0:
            A = (A ^ v) >>> 0;
            break;
          default:
            throw new Error(`BPF: unsupported ALU op ${code.toString(16)}`);
        }
        break;
      }
      case 0x05: {
        // JMP
        const v = SRC(code) ? X : k;
        let cond: boolean;
        switch (OP(code)) {
          case 0x00:
            pc += k;
            continue; // JA
          case 0x10:
            cond = A === v >>> 0;
            break;
          case 0x20:
            cond = A > v >>> 0;
            break;
          case 0x30:
            cond = A >= v >>> 0;
            break;
          case 0x40:
            cond = (A & v) !== 0;
            break;
          default:
            throw new Error(`BPF: unsupported jump ${code.toString(16)}`);
        }
        pc += cond ? jt : jf;
        break;
      }
      case 0x06: // RET
        return (code & 0x18) === 0x10 ? A : k >>> 0;
      case 0x07: // MISC: TAX / TXA
        if (code & 0x80) A = X;
        else X = A;
        break;
    }
  }
  throw new Error('BPF: fell off the end of the program');
}
