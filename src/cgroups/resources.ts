// linux.resources → the cgroup file writes that apply them, in order, for
// cgroup v1 and v2: pure. What a write depends on (whether a file exists, the
// current limit) comes through a Probe, so the rules are testable on plain
// data. The v1 → v2 conversions are runc's (cpu shares → weight, memory+swap
// → swap, blkio weight → io weight). Where v2 has no equivalent of a v1 knob
// the write is refused, never skipped: a limit is never silently dropped.
import { UserError } from '../errors';
import type { LinuxResources, ThrottleDevice } from '../spec/types';

export type Version = 1 | 2;

export interface Write {
  /** v1: the controller whose directory holds the file; v2: the controller the file belongs to. */
  controller: string;
  file: string;
  value: string;
  /** The OCI field, for messages. */
  field: string;
  /** On EINVAL retry once after the batch's other writes (a period that only fits the new quota). */
  retryLast?: boolean;
  /** A missing file is fine (a knob this kernel lacks and that asks for nothing). */
  optional?: boolean;
  /** Read the file back: the kernel clamps cpu.shares without an error. */
  verify?: boolean;
}

/** What the writes depend on: a file's presence and current content. */
export interface Probe {
  exists(controller: string, file: string): boolean;
  read(controller: string, file: string): string | undefined;
}

export interface WriteOptions {
  /** v1 devices rules to write (root on v1); undefined: satisfied by construction elsewhere. */
  deviceRules?: string[];
}

const MAX = 'max';

/** A JSON number that is exact (JSON.parse rounds beyond 2^53). */
function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new UserError(field, `${String(v)} is not an integer this runtime can apply exactly`);
  return v;
}

/** Set and not 0 (0 means "unset" for these fields, as in runc). */
function given(v: number | undefined): v is number {
  return v !== undefined && v !== null && v !== 0;
}

// --- conversions (runc's) -----------------------------------------------------

/** cpu.shares [2, 262144] → cpu.weight [1, 10000]: a curve through (2,1), (1024,100), (262144,10000). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return Math.ceil(Math.pow(10, exponent));
}

/** blkio.weight [10, 1000] → io.weight [1, 10000], linear. */
export function blkioToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** OCI memory.swap is memory+swap; v2's memory.swap.max is swap alone. */
export function swapToV2(swap: number, memory: number, field: string): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === -1) return swap;
  if (memory === 0) throw new UserError(field, 'a swap limit needs a memory limit on cgroup v2');
  if (memory < 0) throw new UserError(field, `invalid memory limit ${memory}`);
  if (swap < memory) throw new UserError(field, 'memory+swap limit must be >= the memory limit');
  return swap - memory;
}

function v2Number(n: number): string {
  return n === -1 ? MAX : String(n);
}

function pidsValue(limit: number): string {
  // 0 asks for the strictest limit; pids.max cannot be 0, so 1 (runc does the same).
  return limit > 0 ? String(limit) : limit === 0 ? '1' : MAX;
}

function rate(list: ThrottleDevice[] | undefined, field: string): { dev: string; rate: number; field: string }[] {
  return (list ?? []).map((t, i) => ({
    dev: `${num(t.major, `${field}[${i}].major`)}:${num(t.minor, `${field}[${i}].minor`)}`,
    rate: num(t.rate, `${field}[${i}].rate`),
    field: `${field}[${i}]`,
  }));
}

// --- devices (v1) ---------------------------------------------------------------

/** One linux.resources.devices rule as devices.allow/deny text ("c 1:3 rwm", "a"). */
export function deviceRuleText(d: { type?: string; major?: number; minor?: number; access?: string }, field: string): string {
  const type = d.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type)) throw new UserError(`${field}.type`, `"${type}" is not a, b or c`);
  const access = d.access ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access)) throw new UserError(`${field}.access`, `"${access}" is not a combination of r, w and m`);
  const part = (v: number | undefined, f: string) => (v === undefined || v === null || v === -1 ? '*' : String(num(v, f)));
  const major = part(d.major, `${field}.major`);
  const minor = part(d.minor, `${field}.minor`);
  if (type === 'a' && major === '*' && minor === '*') return `a *:* ${access}`;
  return `${type} ${major}:${minor} ${access}`;
}

/**
 * What every container may use whatever its rules say, appended after them
 * (runc's list): mknod of any node (the kernel still needs CAP_MKNOD), the
 * nodes ch-run-oci always binds, the console, ptys and tun.
 */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm',
  'c 1:5 rwm',
  'c 1:7 rwm',
  'c 1:8 rwm',
  'c 1:9 rwm',
  'c 5:0 rwm',
  'c 5:1 rwm',
  'c 5:2 rwm',
  'c 136:* rwm',
  'c 10:200 rwm',
];

// --- v1 -------------------------------------------------------------------------

function v1Writes(r: LinuxResources, probe: Probe, o: WriteOptions): Write[] {
  const w: Write[] = [];
  const add = (controller: string, file: string, value: string | number, field: string, extra: Partial<Write> = {}) =>
    w.push({ controller, file, value: String(value), field, ...extra });

  if (o.deviceRules)
    for (const text of o.deviceRules) {
      const allow = !text.startsWith('!');
      add('devices', allow ? 'devices.allow' : 'devices.deny', allow ? text : text.slice(1), 'linux.resources.devices');
    }

  const m = r.memory ?? {};
  const f = 'linux.resources.memory';
  const limit = m.limit === undefined ? undefined : num(m.limit, `${f}.limit`);
  let swap = m.swap === undefined ? undefined : num(m.swap, `${f}.swap`);
  const memsw = 'memory.memsw.limit_in_bytes';
  // Unlimited memory with no swap setting means unlimited swap too (runc).
  if (limit === -1 && !given(swap) && probe.exists('memory', memsw)) swap = -1;
  const setLimit = () => given(limit) && add('memory', 'memory.limit_in_bytes', limit, `${f}.limit`);
  const setSwap = () => given(swap) && add('memory', memsw, swap, `${f}.swap`);
  if (given(limit) && given(swap)) {
    // memsw must stay >= limit at every step: raise swap first when it grows.
    const cur = Number(probe.read('memory', 'memory.limit_in_bytes') ?? 'NaN');
    if (swap === -1 || !(cur >= swap)) {
      setSwap();
      setLimit();
    } else {
      setLimit();
      setSwap();
    }
  } else {
    setLimit();
    setSwap();
  }
  if (given(m.reservation)) add('memory', 'memory.soft_limit_in_bytes', num(m.reservation, `${f}.reservation`), `${f}.reservation`);
  if (m.disableOOMKiller === true) add('memory', 'memory.oom_control', 1, `${f}.disableOOMKiller`);
  if (m.swappiness !== undefined && m.swappiness !== null && num(m.swappiness, `${f}.swappiness`) !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100) throw new UserError(`${f}.swappiness`, `${m.swappiness} is not in 0-100`);
    add('memory', 'memory.swappiness', m.swappiness, `${f}.swappiness`);
  }

  const c = r.cpu ?? {};
  const fc = 'linux.resources.cpu';
  if (given(c.shares)) add('cpu', 'cpu.shares', num(c.shares, `${fc}.shares`), `${fc}.shares`, { verify: true });
  const quota = c.quota === undefined ? 0 : num(c.quota, `${fc}.quota`);
  if (given(c.period)) add('cpu', 'cpu.cfs_period_us', num(c.period, `${fc}.period`), `${fc}.period`, { retryLast: quota !== 0 });
  if (c.burst !== undefined && c.burst !== null) {
    add('cpu', 'cpu.cfs_burst_us', num(c.burst, `${fc}.burst`), `${fc}.burst`, { retryLast: quota !== 0, optional: c.burst === 0 });
  }
  if (quota !== 0) add('cpu', 'cpu.cfs_quota_us', quota, `${fc}.quota`);
  if (c.idle !== undefined && c.idle !== null) add('cpu', 'cpu.idle', num(c.idle, `${fc}.idle`), `${fc}.idle`);
  const rtRuntime = c.realtimeRuntime === undefined ? 0 : num(c.realtimeRuntime, `${fc}.realtimeRuntime`);
  if (given(c.realtimePeriod)) {
    add('cpu', 'cpu.rt_period_us', num(c.realtimePeriod, `${fc}.realtimePeriod`), `${fc}.realtimePeriod`, { retryLast: rtRuntime !== 0 });
  }
  if (rtRuntime !== 0) add('cpu', 'cpu.rt_runtime_us', rtRuntime, `${fc}.realtimeRuntime`);
  if (c.cpus) add('cpuset', 'cpuset.cpus', c.cpus, `${fc}.cpus`);
  if (c.mems) add('cpuset', 'cpuset.mems', c.mems, `${fc}.mems`);

  if (r.pids?.limit !== undefined && r.pids.limit !== null) {
    add('pids', 'pids.max', pidsValue(num(r.pids.limit, 'linux.resources.pids.limit')), 'linux.resources.pids.limit');
  }

  const b = r.blockIO ?? {};
  const fb = 'linux.resources.blockIO';
  // CFQ's files, or BFQ's where CFQ is gone (runc's choice).
  const bfq = !probe.exists('blkio', 'blkio.weight') && probe.exists('blkio', 'blkio.bfq.weight');
  const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
  if (given(b.weight)) add('blkio', weightFile, num(b.weight, `${fb}.weight`), `${fb}.weight`);
  if (given(b.leafWeight)) add('blkio', 'blkio.leaf_weight', num(b.leafWeight, `${fb}.leafWeight`), `${fb}.leafWeight`);
  (b.weightDevice ?? []).forEach((d, i) => {
    const fd = `${fb}.weightDevice[${i}]`;
    const dev = `${num(d.major, `${fd}.major`)}:${num(d.minor, `${fd}.minor`)}`;
    if (given(d.weight)) add('blkio', `${weightFile}_device`, `${dev} ${num(d.weight, `${fd}.weight`)}`, fd);
    if (given(d.leafWeight)) add('blkio', 'blkio.leaf_weight_device', `${dev} ${num(d.leafWeight, `${fd}.leafWeight`)}`, fd);
  });
  const throttles: [keyof typeof b, string][] = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ];
  for (const [key, file] of throttles) {
    for (const t of rate(b[key] as ThrottleDevice[] | undefined, `${fb}.${key}`)) add('blkio', file, `${t.dev} ${t.rate}`, t.field);
  }

  for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
    const fh = `linux.resources.hugepageLimits[${i}]`;
    const value = num(h.limit, `${fh}.limit`);
    add('hugetlb', `hugetlb.${pageSize(h.pageSize, fh)}.limit_in_bytes`, value, fh);
    const rsvd = `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`;
    if (probe.exists('hugetlb', rsvd)) add('hugetlb', rsvd, value, fh);
  }

  const n = r.network;
  if (n?.classID !== undefined && n.classID !== null)
    add('net_cls', 'net_cls.classid', num(n.classID, 'linux.resources.network.classID'), 'linux.resources.network.classID');
  (n?.priorities ?? []).forEach((p, i) => {
    const fp = `linux.resources.network.priorities[${i}]`;
    if (!/^[^\s/]+$/.test(p.name)) throw new UserError(`${fp}.name`, `"${p.name}" is not an interface name`);
    add('net_prio', 'net_prio.ifpriomap', `${p.name} ${num(p.priority, `${fp}.priority`)}`, fp);
  });
  w.push(...rdmaWrites(r));
  if (r.unified && Object.keys(r.unified).length) {
    throw new UserError('linux.resources.unified', 'needs cgroup v2 (this host has cgroup v1 controllers)');
  }
  return w;
}

function pageSize(s: string, field: string): string {
  if (!/^[1-9][0-9]*[KMG]B$/.test(s)) throw new UserError(`${field}.pageSize`, `"${s}" is not a page size like 2MB`);
  return s;
}

function rdmaWrites(r: LinuxResources): Write[] {
  return Object.entries(r.rdma ?? {})
    .map(([dev, l]) => {
      const f = `linux.resources.rdma.${dev}`;
      if (!/^[^\s/]+$/.test(dev)) throw new UserError(f, `"${dev}" is not a device name`);
      const parts = [dev];
      if (l.hcaHandles !== undefined && l.hcaHandles !== null) parts.push(`hca_handle=${num(l.hcaHandles, `${f}.hcaHandles`)}`);
      if (l.hcaObjects !== undefined && l.hcaObjects !== null) parts.push(`hca_object=${num(l.hcaObjects, `${f}.hcaObjects`)}`);
      return { controller: 'rdma', file: 'rdma.max', value: parts.join(' '), field: f };
    })
    .filter((w) => w.value.includes(' '));
}

// --- v2 -------------------------------------------------------------------------

/** Unified keys name one file of the container's cgroup: CONTROLLER.KNOB, nothing that moves processes. */
const UNIFIED_KEY = /^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/;
const UNIFIED_REFUSED = new Set([
  'cgroup.procs',
  'cgroup.threads',
  'cgroup.kill',
  'cgroup.subtree_control',
  'cgroup.type',
  'cgroup.freeze',
]);

function noV2(field: string, what: string): never {
  throw new UserError(field, `cgroup v2 has no ${what}`);
}

function v2Writes(r: LinuxResources, probe: Probe): Write[] {
  const w: Write[] = [];
  const add = (controller: string, file: string, value: string | number, field: string, extra: Partial<Write> = {}) =>
    w.push({ controller, file, value: String(value), field, ...extra });

  if (r.pids?.limit !== undefined && r.pids.limit !== null) {
    add('pids', 'pids.max', pidsValue(num(r.pids.limit, 'linux.resources.pids.limit')), 'linux.resources.pids.limit');
  }

  const m = r.memory ?? {};
  const f = 'linux.resources.memory';
  const limit = m.limit === undefined ? 0 : num(m.limit, `${f}.limit`);
  const swap = m.swap === undefined ? 0 : num(m.swap, `${f}.swap`);
  const reservation = m.reservation === undefined ? 0 : num(m.reservation, `${f}.reservation`);
  if (limit !== 0 || swap !== 0 || reservation !== 0) {
    const s = swapToV2(swap, limit, `${f}.swap`);
    // "max" and "0" ask for nothing a kernel without swap accounting lacks.
    if (s !== 0 || swap > 0) add('memory', 'memory.swap.max', v2Number(s), `${f}.swap`, { optional: s === -1 || s === 0 });
    if (limit !== 0) add('memory', 'memory.max', v2Number(limit), `${f}.limit`);
    if (reservation !== 0) add('memory', 'memory.low', v2Number(reservation), `${f}.reservation`);
  }
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) noV2(`${f}.swappiness`, 'per-cgroup swappiness');
  if (m.disableOOMKiller === true) noV2(`${f}.disableOOMKiller`, 'switch for the OOM killer');

  const b = r.blockIO ?? {};
  const fb = 'linux.resources.blockIO';
  const bfq = probe.exists('io', 'io.bfq.weight');
  if (given(b.weight)) {
    const weight = num(b.weight, `${fb}.weight`);
    if (bfq) add('io', 'io.bfq.weight', weight, `${fb}.weight`);
    else add('io', 'io.weight', blkioToIoWeight(weight), `${fb}.weight`);
  }
  if (given(b.leafWeight)) noV2(`${fb}.leafWeight`, 'leaf weight');
  (b.weightDevice ?? []).forEach((d, i) => {
    const fd = `${fb}.weightDevice[${i}]`;
    if (given(d.leafWeight)) noV2(`${fd}.leafWeight`, 'leaf weight');
    if (!given(d.weight)) return;
    if (!bfq) throw new UserError(fd, 'per-device weights need the BFQ scheduler (io.bfq.weight) on cgroup v2');
    add('io', 'io.bfq.weight', `${num(d.major, `${fd}.major`)}:${num(d.minor, `${fd}.minor`)} ${num(d.weight, `${fd}.weight`)}`, fd);
  });
  const throttles: [keyof typeof b, string][] = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ];
  for (const [key, name] of throttles) {
    for (const t of rate(b[key] as ThrottleDevice[] | undefined, `${fb}.${key}`))
      add('io', 'io.max', `${t.dev} ${name}=${t.rate}`, t.field);
  }

  const c = r.cpu ?? {};
  const fc = 'linux.resources.cpu';
  if (c.idle !== undefined && c.idle !== null) add('cpu', 'cpu.idle', num(c.idle, `${fc}.idle`), `${fc}.idle`);
  if (given(c.shares)) add('cpu', 'cpu.weight', sharesToWeight(num(c.shares, `${fc}.shares`)), `${fc}.shares`);
  const quota = c.quota === undefined ? 0 : num(c.quota, `${fc}.quota`);
  const period = c.period === undefined ? 0 : num(c.period, `${fc}.period`);
  if (c.burst !== undefined && c.burst !== null) {
    add('cpu', 'cpu.max.burst', num(c.burst, `${fc}.burst`), `${fc}.burst`, { retryLast: quota !== 0 || period !== 0 });
  }
  if (quota !== 0 || period !== 0)
    add('cpu', 'cpu.max', `${quota > 0 ? quota : MAX} ${period || 100000}`, quota !== 0 ? `${fc}.quota` : `${fc}.period`);
  if (given(c.realtimePeriod) || given(c.realtimeRuntime)) noV2(`${fc}.realtimeRuntime`, 'real-time CPU budget');
  if (c.cpus) add('cpuset', 'cpuset.cpus', c.cpus, `${fc}.cpus`);
  if (c.mems) add('cpuset', 'cpuset.mems', c.mems, `${fc}.mems`);

  for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
    const fh = `linux.resources.hugepageLimits[${i}]`;
    const value = num(h.limit, `${fh}.limit`);
    add('hugetlb', `hugetlb.${pageSize(h.pageSize, fh)}.max`, value, fh);
    const rsvd = `hugetlb.${h.pageSize}.rsvd.max`;
    if (probe.exists('hugetlb', rsvd)) add('hugetlb', rsvd, value, fh);
  }
  if (r.network?.classID !== undefined || (r.network?.priorities ?? []).length)
    noV2('linux.resources.network', 'net_cls or net_prio controller');
  w.push(...rdmaWrites(r));

  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const fu = `linux.resources.unified.${key}`;
    if (!UNIFIED_KEY.test(key) || key.includes('..') || UNIFIED_REFUSED.has(key))
      throw new UserError(fu, "not a resource file of the container's cgroup");
    if (typeof value !== 'string') throw new UserError(fu, 'must be a string');
    add(key.slice(0, key.indexOf('.')), key, value, fu);
  }
  return w;
}

/** The writes that apply `r` (throws a UserError naming the field it cannot apply). */
export function resourceWrites(r: LinuxResources | undefined, version: Version, probe: Probe, o: WriteOptions = {}): Write[] {
  if (!r) return version === 1 && o.deviceRules ? v1Writes({}, probe, o) : [];
  return version === 1 ? v1Writes(r, probe, o) : v2Writes(r, probe);
}

/** v1 rules as `!text` for deny, `text` for allow, from the config (its rules, the nodes it binds, then the defaults). */
export function v1DeviceRules(r: LinuxResources | undefined, bound: { type: string; major?: number; minor?: number }[]): string[] {
  const out: string[] = [];
  (r?.devices ?? []).forEach((d, i) => {
    const text = deviceRuleText(d, `linux.resources.devices[${i}]`);
    out.push(d.allow ? text : `!${text}`);
  });
  // Nodes given in linux.devices are meant to be usable (runc allows them too).
  for (const d of bound)
    if ((d.type === 'c' || d.type === 'b' || d.type === 'u') && d.major !== undefined && d.minor !== undefined) {
      out.push(`${d.type === 'u' ? 'c' : d.type} ${d.major}:${d.minor} rwm`);
    }
  out.push(...DEFAULT_DEVICE_RULES);
  return out;
}

/** Does `r` ask for anything a cgroup must hold (devices aside: those hold by construction)? The fields that do. */
export function limitFields(r: LinuxResources | undefined): string[] {
  if (!r) return [];
  const out: string[] = [];
  for (const [key, v] of Object.entries(r)) {
    if (key === 'devices' || v === undefined || v === null) continue;
    if (
      Array.isArray(v)
        ? v.length === 0
        : typeof v === 'object' &&
          !Object.values(v as object).some((x) => x !== undefined && x !== null && !(Array.isArray(x) && !x.length))
    )
      continue;
    // Kernel memory knobs are gone from the kernel; runc ignores them too.
    if (
      key === 'memory' &&
      Object.entries(v as object).every(
        ([k, x]) => x === undefined || x === null || ['kernel', 'kernelTCP', 'useHierarchy', 'checkBeforeUpdate'].includes(k),
      )
    )
      continue;
    out.push(`linux.resources.${key}`);
  }
  return out;
}

/**
 * `update`: r's fields replace the recorded ones (runc's merge): devices are
 * kept, throttle and weight lists are updated per device, and a quota or a
 * period given alone keeps the other's old value.
 */
export function mergeResources(base: LinuxResources | undefined, patch: LinuxResources): LinuxResources {
  const out: LinuxResources = JSON.parse(JSON.stringify(base ?? {}));
  for (const key of ['memory', 'cpu', 'pids', 'network'] as const) {
    const p = patch[key] as Record<string, unknown> | undefined;
    if (!p) continue;
    const o = ((out[key] as Record<string, unknown> | undefined) ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== null) o[k] = v;
    (out as Record<string, unknown>)[key] = o;
  }
  const pb = patch.blockIO;
  if (pb) {
    const ob = (out.blockIO ??= {});
    if (pb.weight !== undefined) ob.weight = pb.weight;
    if (pb.leafWeight !== undefined) ob.leafWeight = pb.leafWeight;
    for (const wd of pb.weightDevice ?? []) {
      const list = (ob.weightDevice ??= []);
      const old = list.find((x) => x.major === wd.major && x.minor === wd.minor);
      if (old) Object.assign(old, Object.fromEntries(Object.entries(wd).filter(([, v]) => v !== undefined)));
      else list.push({ ...wd });
    }
    for (const key of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
      for (const td of pb[key] ?? []) {
        const list = (ob[key] ??= []);
        const old = list.find((x) => x.major === td.major && x.minor === td.minor);
        if (old) old.rate = td.rate;
        else list.push({ ...td });
      }
    }
  }
  if (patch.hugepageLimits) {
    const list = (out.hugepageLimits ??= []);
    for (const h of patch.hugepageLimits) {
      const old = list.find((x) => x.pageSize === h.pageSize);
      if (old) old.limit = h.limit;
      else list.push({ ...h });
    }
  }
  if (patch.rdma) out.rdma = { ...(out.rdma ?? {}), ...patch.rdma };
  if (patch.unified) out.unified = { ...(out.unified ?? {}), ...patch.unified };
  return out;
}
