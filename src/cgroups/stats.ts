// `events --stats`: the container's usage in runc's JSON shape (types/events.go
// "stats"), read from its cgroup files. Counters are BigInt: cgroup v1 prints
// "unlimited" as 9223372036854771712, which a JS number cannot hold exactly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readFile } from './file';
import { V2 } from './host';
import { dirFor, type CgroupRecord } from './manager';

type Json = bigint | number | string | boolean | null | Json[] | { [k: string]: Json };

/** JSON with BigInt written as plain digits. */
export function stringify(v: Json): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(stringify).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${stringify(x)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const MAX_U64 = 18446744073709551615n;

function big(text: string | undefined): bigint {
  const t = (text ?? '').trim();
  if (t === 'max') return MAX_U64;
  return /^\d+$/.test(t) ? BigInt(t) : 0n;
}

function file(dir: string | undefined, name: string): bigint {
  return dir ? big(readFile(path.join(dir, name))) : 0n;
}

function keyed(dir: string | undefined, name: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  if (!dir) return out;
  for (const line of (readFile(path.join(dir, name)) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = BigInt(v);
  }
  return out;
}

function list(dir: string | undefined, name: string): bigint[] {
  if (!dir) return [];
  return (readFile(path.join(dir, name)) ?? '')
    .trim()
    .split(/\s+/)
    .filter((x) => /^\d+$/.test(x))
    .map(BigInt);
}

/** Hugepage sizes this kernel knows (from /sys/kernel/mm/hugepages: hugepages-2048kB → 2MB). */
function pageSizes(): string[] {
  try {
    return fs.readdirSync('/sys/kernel/mm/hugepages').map((n) => {
      const kb = Number(/^hugepages-(\d+)kB$/.exec(n)?.[1]);
      return kb >= 1048576 ? `${kb / 1048576}GB` : kb >= 1024 ? `${kb / 1024}MB` : `${kb}KB`;
    });
  } catch {
    return [];
  }
}

/** blkio/io lines "MAJ:MIN Op value" (v1) into runc's entries. */
function blkioV1(dir: string | undefined, name: string): Json[] {
  if (!dir) return [];
  const out: Json[] = [];
  for (const line of (readFile(path.join(dir, name)) ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: BigInt(m[1]), minor: BigInt(m[2]), op: m[3], value: BigInt(m[4]) });
  }
  return out;
}

function statsV1(rec: CgroupRecord): Record<string, Json> {
  const cpuacct = dirFor(rec, 'cpuacct');
  const cpu = dirFor(rec, 'cpu');
  const mem = dirFor(rec, 'memory');
  const pids = dirFor(rec, 'pids');
  const blkio = dirFor(rec, 'blkio');
  const hugetlb = dirFor(rec, 'hugetlb');
  // cpuacct.stat counts USER_HZ ticks (100 per second on Linux).
  const ticks = keyed(cpuacct, 'cpuacct.stat');
  const throttle = keyed(cpu, 'cpu.stat');
  const entry = (prefix: string): Json => ({
    limit: file(mem, `${prefix}limit_in_bytes`),
    usage: file(mem, `${prefix}usage_in_bytes`),
    max: file(mem, `${prefix}max_usage_in_bytes`),
    failcnt: file(mem, `${prefix}failcnt`),
  });
  const raw = keyed(mem, 'memory.stat');
  const huge: Record<string, Json> = {};
  if (hugetlb)
    for (const ps of pageSizes()) {
      huge[ps] = {
        usage: file(hugetlb, `hugetlb.${ps}.usage_in_bytes`),
        max: file(hugetlb, `hugetlb.${ps}.max_usage_in_bytes`),
        failcnt: file(hugetlb, `hugetlb.${ps}.failcnt`),
      };
    }
  return {
    cpu: {
      usage: {
        total: file(cpuacct, 'cpuacct.usage'),
        percpu: list(cpuacct, 'cpuacct.usage_percpu'),
        percpu_kernel: list(cpuacct, 'cpuacct.usage_percpu_sys'),
        percpu_user: list(cpuacct, 'cpuacct.usage_percpu_user'),
        kernel: (ticks.system ?? 0n) * 10000000n,
        user: (ticks.user ?? 0n) * 10000000n,
      },
      throttling: {
        periods: throttle.nr_periods ?? 0n,
        throttledPeriods: throttle.nr_throttled ?? 0n,
        throttledTime: throttle.throttled_time ?? 0n,
      },
    },
    memory: {
      cache: raw.cache ?? 0n,
      usage: entry('memory.'),
      swap: entry('memory.memsw.'),
      kernel: entry('memory.kmem.'),
      kernelTCP: entry('memory.kmem.tcp.'),
      raw,
    },
    pids: { current: file(pids, 'pids.current'), limit: limitOrZero(file(pids, 'pids.max')) },
    blkio: {
      ioServiceBytesRecursive: blkioV1(blkio, 'blkio.throttle.io_service_bytes_recursive'),
      ioServicedRecursive: blkioV1(blkio, 'blkio.throttle.io_serviced_recursive'),
    },
    hugetlb: huge,
  };
}

function limitOrZero(v: bigint): bigint {
  return v === MAX_U64 ? 0n : v;
}

function statsV2(rec: CgroupRecord): Record<string, Json> {
  const dir = rec.dirs.find((d) => d.key === V2)?.dir;
  const cpu = keyed(dir, 'cpu.stat');
  const raw = keyed(dir, 'memory.stat');
  const usage = file(dir, 'memory.current');
  const limit = file(dir, 'memory.max');
  const swap = file(dir, 'memory.swap.current');
  const swapMax = file(dir, 'memory.swap.max');
  const events = keyed(dir, 'memory.events');
  const io: Json[] = [];
  const ios: Json[] = [];
  for (const line of (dir ? (readFile(path.join(dir, 'io.stat')) ?? '') : '').split('\n')) {
    const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(
      m[3]
        .split(' ')
        .map((p) => p.split('='))
        .map(([k, v]) => [k, big(v)]),
    );
    const dev = { major: BigInt(m[1]), minor: BigInt(m[2]) };
    io.push({ ...dev, op: 'Read', value: kv.rbytes ?? 0n }, { ...dev, op: 'Write', value: kv.wbytes ?? 0n });
    ios.push({ ...dev, op: 'Read', value: kv.rios ?? 0n }, { ...dev, op: 'Write', value: kv.wios ?? 0n });
  }
  const huge: Record<string, Json> = {};
  for (const ps of pageSizes()) {
    if (!dir || readFile(path.join(dir, `hugetlb.${ps}.current`)) === undefined) continue;
    huge[ps] = {
      usage: file(dir, `hugetlb.${ps}.current`),
      max: file(dir, `hugetlb.${ps}.max`),
      failcnt: keyed(dir, `hugetlb.${ps}.events`).max ?? 0n,
    };
  }
  return {
    cpu: {
      usage: { total: (cpu.usage_usec ?? 0n) * 1000n, kernel: (cpu.system_usec ?? 0n) * 1000n, user: (cpu.user_usec ?? 0n) * 1000n },
      throttling: {
        periods: cpu.nr_periods ?? 0n,
        throttledPeriods: cpu.nr_throttled ?? 0n,
        throttledTime: (cpu.throttled_usec ?? 0n) * 1000n,
      },
    },
    memory: {
      cache: raw.file ?? 0n,
      usage: { limit, usage, max: file(dir, 'memory.peak'), failcnt: events.max ?? 0n },
      swap: { limit: swapMax === MAX_U64 || limit === MAX_U64 ? MAX_U64 : swapMax + limit, usage: swap + usage, failcnt: 0n },
      raw,
    },
    pids: { current: file(dir, 'pids.current'), limit: limitOrZero(file(dir, 'pids.max')) },
    blkio: { ioServiceBytesRecursive: io, ioServicedRecursive: ios },
    hugetlb: huge,
  };
}

/** The "data" of runc's stats event. */
export function cgroupStats(rec: CgroupRecord): Record<string, Json> {
  return rec.mode === 'v2' ? statsV2(rec) : statsV1(rec);
}

/** OOM kills so far (v2 memory.events oom_kill; v1 memory.oom_control oom_kill): `events` reports each new one. */
export function oomKills(rec: CgroupRecord): bigint {
  const dir = dirFor(rec, 'memory');
  return rec.mode === 'v2' ? (keyed(dir, 'memory.events').oom_kill ?? 0n) : (keyed(dir, 'memory.oom_control').oom_kill ?? 0n);
}
