import * as fs from 'node:fs';
import type { GlobalOptions } from './global';
import { openStore } from './global';
import { containerId } from './args';
import { UserError, errnoText } from '../errors';
import { parseJson } from '../spec/load';
import type { LinuxResources } from '../spec/types';
import { updateContainer } from '../container/control';

/**
 * update: new limits for a running container, as runc's: `--resources FILE`
 * (or `-`: standard input) holds a linux.resources object whose fields
 * replace the current ones; otherwise the flags do (and are ignored when
 * --resources is given, as in runc).
 */
export async function update(a: Record<string, unknown>, g: GlobalOptions): Promise<void> {
  const id = containerId(a);
  const patch = a.resources !== undefined ? readResources(String(a.resources)) : fromFlags(a);
  // runc's fix-up: unlimited memory with no swap setting must not fail for want of a memory limit.
  if (patch.memory?.limit === -1 && patch.memory.swap === undefined) patch.memory.swap = 0;
  await updateContainer(openStore(g), id, patch);
}

function readResources(file: string): LinuxResources {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UserError(`--resources ${file}`, errnoText(err));
  }
  const r = parseJson(text, file === '-' ? '--resources (standard input)' : file);
  if (r === null || typeof r !== 'object' || Array.isArray(r))
    throw new UserError(`--resources ${file}`, 'must hold a JSON object (linux.resources)');
  for (const [k, v] of Object.entries(r)) {
    const list = k === 'devices' || k === 'hugepageLimits';
    if (v !== null && (list ? !Array.isArray(v) : typeof v !== 'object' || Array.isArray(v))) {
      throw new UserError(`--resources ${file}: ${k}`, list ? 'must be a list' : 'must be an object');
    }
  }
  return r as LinuxResources;
}

/** A whole number flag. */
function int(a: Record<string, unknown>, flag: string, unsigned: boolean): number | undefined {
  const v = a[camel(flag)];
  if (v === undefined) return undefined;
  const s = String(v);
  if (!(unsigned ? /^\d+$/ : /^-?\d+$/).test(s) || !Number.isSafeInteger(Number(s))) {
    throw new UserError(`--${flag} "${s}"`, `must be a${unsigned ? ' non-negative' : 'n'} integer`);
  }
  return Number(s);
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Memory sizes as Docker's units.RAMInBytes reads them: 64m, 1.5g, 1024 (binary units). */
export function ramInBytes(s: string, flag: string): number {
  if (s === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(s);
  const n = m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(n)) throw new UserError(`--${flag} "${s}"`, 'must be a size such as 512m, 1g or a number of bytes');
  return n;
}

function fromFlags(a: Record<string, unknown>): LinuxResources {
  for (const flag of ['l3-cache-schema', 'mem-bw-schema']) {
    if (a[camel(flag)] !== undefined) throw new UserError(`--${flag}`, 'Intel RDT is not supported');
  }
  const r: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  for (const [flag, key] of [
    ['memory', 'limit'],
    ['memory-swap', 'swap'],
    ['memory-reservation', 'reservation'],
    ['kernel-memory', 'kernel'],
    ['kernel-memory-tcp', 'kernelTCP'],
  ] as const) {
    const v = a[camel(flag)];
    if (v !== undefined) memory[key] = ramInBytes(String(v), flag);
  }
  if (Object.keys(memory).length) r.memory = memory;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const set = <K extends keyof typeof cpu>(key: K, v: (typeof cpu)[K] | undefined) => v !== undefined && (cpu[key] = v);
  set('period', int(a, 'cpu-period', true));
  set('quota', int(a, 'cpu-quota', false));
  set('burst', int(a, 'cpu-burst', true));
  set('shares', int(a, 'cpu-share', true));
  set('realtimePeriod', int(a, 'cpu-rt-period', true));
  set('realtimeRuntime', int(a, 'cpu-rt-runtime', false));
  set('idle', int(a, 'cpu-idle', false));
  if (a.cpusetCpus !== undefined) cpu.cpus = String(a.cpusetCpus);
  if (a.cpusetMems !== undefined) cpu.mems = String(a.cpusetMems);
  if (Object.keys(cpu).length) r.cpu = cpu;
  const weight = int(a, 'blkio-weight', true);
  if (weight) r.blockIO = { weight };
  const pids = int(a, 'pids-limit', false);
  if (pids !== undefined) r.pids = { limit: pids };
  return r;
}
