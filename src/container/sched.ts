// Per-process kernel settings with names turned into numbers: process.scheduler
// (sched_setattr), process.ioPriority (ioprio_set), process.execCPUAffinity
// (sched_setaffinity), linux.memoryPolicy (set_mempolicy) and
// linux.timeOffsets (/proc/self/timens_offsets). Everything the kernel would
// refuse for the value alone is refused here, naming the field; what depends on
// privilege (SCHED_FIFO, a lower nice, IOPRIO_CLASS_RT) is left to the kernel,
// whose refusal the runner reports under the same field name.
import { UserError } from '../errors';
import type { Linux, Process, TimeOffset } from '../spec/types';
import type { MemoryPolicyPlan, SchedulerPlan } from '../runner/plan';
import { IOPRIO_CLASSES, MPOL_FLAGS, MPOL_MODES, SCHED_FLAGS, SCHED_POLICIES } from '../spec/sched';

const IOPRIO_CLASS_SHIFT = 13;

/** Modes that take no nodes, and modes that need at least one (set_mempolicy(2)). */
const MPOL_NO_NODES = ['MPOL_DEFAULT', 'MPOL_LOCAL'];
const MPOL_NEEDS_NODES = ['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY'];

/** Bounds of the kernel's masks (CONFIG_NR_CPUS and MAX_NUMNODES at their largest). */
export const MAX_CPUS = 8192;
export const MAX_NODES = 1024;

/**
 * A list like "0-3,7" (cpuset(7) list format) as sorted, distinct numbers
 * below `limit`. Empty or blank: []. Anything else is an error naming `field`.
 */
export function parseIdList(text: string, field: string, limit: number): number[] {
  // A bit per id, filled natively: a config may repeat "0-8191" a million times.
  const seen = new Uint8Array(limit);
  if (text.trim() === '') return [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UserError(field, `"${text}" is not a list like 0-3,7`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new UserError(field, `range ${part} goes backwards`);
    if (hi >= limit) throw new UserError(field, `${hi} is out of range (at most ${limit - 1})`);
    seen.fill(1, lo, hi + 1);
  }
  const out: number[] = [];
  seen.forEach((b, i) => b && out.push(i));
  return out;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** u64 fields as decimal text (JSON.parse gives doubles; negative or fractional is an error). */
function u64(v: number | undefined, field: string): string {
  if (v === undefined) return '0';
  if (!isInt(v) || v < 0 || v >= 2 ** 64) throw new UserError(field, `${v} is not an unsigned 64-bit integer`);
  return BigInt(v).toString();
}

export function planScheduler(s: Process['scheduler']): SchedulerPlan | undefined {
  if (!s) return undefined;
  const f = 'process.scheduler';
  const policy = SCHED_POLICIES[s.policy];
  if (policy === undefined) {
    throw new UserError(`${f}.policy`, s.policy === 'SCHED_ISO' ? 'SCHED_ISO is not a Linux policy' : `unknown policy ${s.policy}`);
  }
  const nice = s.nice ?? 0;
  if (!isInt(nice) || nice < -20 || nice > 19) throw new UserError(`${f}.nice`, `${nice} is out of range (-20 to 19)`);
  const priority = s.priority ?? 0;
  const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  if (!isInt(priority) || (realtime ? priority < 1 || priority > 99 : priority !== 0)) {
    throw new UserError(`${f}.priority`, realtime ? `${priority} is out of range (1 to 99 for ${s.policy})` : `must be 0 for ${s.policy}`);
  }
  let flags = 0;
  for (const name of s.flags ?? []) {
    const bit = SCHED_FLAGS[name];
    if (bit === undefined) throw new UserError(`${f}.flags`, `unknown flag ${name}`);
    flags |= bit;
  }
  const runtime = u64(s.runtime, `${f}.runtime`);
  const deadline = u64(s.deadline, `${f}.deadline`);
  const period = u64(s.period, `${f}.period`);
  if (s.policy === 'SCHED_DEADLINE') {
    // sched_setattr(2): runtime <= deadline <= period (period 0: the deadline), runtime at least 1024 ns.
    const [r, d, p] = [BigInt(runtime), BigInt(deadline), BigInt(period)];
    if (r < 1024n) throw new UserError(`${f}.runtime`, 'must be at least 1024 (ns) for SCHED_DEADLINE');
    if (d < r) throw new UserError(`${f}.deadline`, 'must not be below runtime');
    if (p !== 0n && p < d) throw new UserError(`${f}.period`, 'must not be below deadline');
  } else {
    for (const [k, v] of [
      ['runtime', runtime],
      ['deadline', deadline],
      ['period', period],
    ]) {
      if (v !== '0') throw new UserError(`${f}.${k}`, 'only for SCHED_DEADLINE');
    }
  }
  const text = [
    s.policy,
    s.policy === 'SCHED_DEADLINE'
      ? `runtime ${runtime} deadline ${deadline} period ${period}`
      : realtime
        ? `priority ${priority}`
        : `nice ${nice}`,
  ]
    .concat(s.flags?.length ? [s.flags.join('|')] : [])
    .join(' ');
  return { policy, flags, nice, priority, runtime, deadline, period, text };
}

/** The ioprio_set(2) value: class << 13 | level. */
export function planIoPriority(io: Process['ioPriority']): { value: number; text: string } | undefined {
  if (!io) return undefined;
  const cls = IOPRIO_CLASSES[io.class];
  if (cls === undefined) throw new UserError('process.ioPriority.class', `unknown class ${io.class}`);
  const level = io.priority ?? 0;
  if (!isInt(level) || level < 0 || level > 7) throw new UserError('process.ioPriority.priority', `${level} is out of range (0 to 7)`);
  return { value: (cls << IOPRIO_CLASS_SHIFT) | level, text: `${io.class} ${level}` };
}

/** execCPUAffinity: CPUs to run on before the cgroup join and right before execve (an empty list: leave as is). */
export function planAffinity(a: Process['execCPUAffinity']): { initial?: number[]; final?: number[] } {
  const f = 'process.execCPUAffinity';
  const initial = parseIdList(a?.initial ?? '', `${f}.initial`, MAX_CPUS);
  const final = parseIdList(a?.final ?? '', `${f}.final`, MAX_CPUS);
  return { initial: initial.length ? initial : undefined, final: final.length ? final : undefined };
}

export function planMemoryPolicy(m: Linux['memoryPolicy']): MemoryPolicyPlan | undefined {
  if (m === undefined || m === null) return undefined;
  const f = 'linux.memoryPolicy';
  if (typeof m !== 'object' || Array.isArray(m)) throw new UserError(f, 'must be an object');
  const mp = m as { mode?: unknown; nodes?: unknown; flags?: unknown };
  if (typeof mp.mode !== 'string') throw new UserError(`${f}.mode`, 'is required (a string)');
  const mode = MPOL_MODES[mp.mode];
  if (mode === undefined) throw new UserError(`${f}.mode`, `unknown mode ${mp.mode}`);
  if (mp.nodes !== undefined && typeof mp.nodes !== 'string') throw new UserError(`${f}.nodes`, 'must be a string like 0-3,7');
  const nodes = parseIdList(mp.nodes ?? '', `${f}.nodes`, MAX_NODES);
  if (MPOL_NO_NODES.includes(mp.mode) && nodes.length) throw new UserError(`${f}.nodes`, `must be empty for ${mp.mode}`);
  if (MPOL_NEEDS_NODES.includes(mp.mode) && !nodes.length) throw new UserError(`${f}.nodes`, `${mp.mode} needs at least one node`);
  if (mp.flags !== undefined && !Array.isArray(mp.flags)) throw new UserError(`${f}.flags`, 'must be a list');
  let flags = 0;
  for (const name of (mp.flags ?? []) as unknown[]) {
    const bit = typeof name === 'string' ? MPOL_FLAGS[name] : undefined;
    if (bit === undefined) throw new UserError(`${f}.flags`, `unknown flag ${String(name)}`);
    flags |= bit;
  }
  if (flags & MPOL_FLAGS.MPOL_F_STATIC_NODES && flags & MPOL_FLAGS.MPOL_F_RELATIVE_NODES) {
    throw new UserError(`${f}.flags`, 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other');
  }
  if (MPOL_NO_NODES.includes(mp.mode) && flags) throw new UserError(`${f}.flags`, `none allowed for ${mp.mode}`);
  const text = [mp.mode, nodes.length ? `nodes ${mp.nodes}` : '', ((mp.flags ?? []) as string[]).join('|')].filter(Boolean).join(' ');
  return { mode: mode | flags, nodes, text };
}

/** The clocks a time namespace offsets, by their names in /proc/PID/timens_offsets. */
const TIME_CLOCKS = ['monotonic', 'boottime'] as const;

/**
 * linux.timeOffsets as the text written to /proc/self/timens_offsets
 * ("monotonic SECS NANOS" lines), or undefined when there is none.
 */
export function timeOffsetsText(offsets: Linux['timeOffsets']): string | undefined {
  if (!offsets) return undefined;
  const lines: string[] = [];
  for (const key of Object.keys(offsets)) {
    if (!(TIME_CLOCKS as readonly string[]).includes(key))
      throw new UserError(`linux.timeOffsets.${key}`, 'unknown clock (monotonic or boottime)');
  }
  for (const clock of TIME_CLOCKS) {
    const o: TimeOffset | undefined = offsets[clock];
    if (!o) continue;
    const f = `linux.timeOffsets.${clock}`;
    const secs = o.secs ?? 0;
    const nanos = o.nanosecs ?? 0;
    // The kernel keeps the offset in a timespec64 and refuses an uptime it would make negative or past KTIME_MAX/2.
    if (!isInt(secs) || !Number.isSafeInteger(secs)) throw new UserError(`${f}.secs`, `${secs} is not an integer`);
    if (!isInt(nanos) || nanos < 0 || nanos >= 1e9) throw new UserError(`${f}.nanosecs`, `${nanos} is out of range (0 to 999999999)`);
    lines.push(`${clock} ${secs} ${nanos}\n`);
  }
  return lines.length ? lines.join('') : undefined;
}
