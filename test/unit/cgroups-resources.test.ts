// linux.resources → cgroup file writes, for v1 and v2: every resource, runc's
// conversions, and the v1 knobs v2 lacks (refused, never skipped).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEVICE_RULES,
  blkioToIoWeight,
  deviceRuleText,
  limitFields,
  mergeResources,
  resourceWrites,
  sharesToWeight,
  swapToV2,
  v1DeviceRules,
  type Probe,
  type Write,
} from '../../src/cgroups/resources';
import type { LinuxResources } from '../../src/spec/types';

/** A probe over a map "controller/file" → content (present files only). */
function probe(files: Record<string, string> = {}): Probe {
  return { exists: (c, f) => `${c}/${f}` in files, read: (c, f) => files[`${c}/${f}`] };
}
const brief = (ws: Write[]) => ws.map((w) => `${w.controller}/${w.file}=${w.value}`);
const v1 = (r: LinuxResources, files?: Record<string, string>) => brief(resourceWrites(r, 1, probe(files)));
const v2 = (r: LinuxResources, files?: Record<string, string>) => brief(resourceWrites(r, 2, probe(files)));

describe("conversions (runc's)", () => {
  it('cpu shares → weight: the curve through 2→1, 1024→100, 262144→10000', () => {
    expect([0, 2, 1024, 262144, 1 << 20].map(sharesToWeight)).toEqual([0, 1, 100, 10000, 10000]);
    expect(sharesToWeight(512)).toBe(59);
    expect(sharesToWeight(2048)).toBe(174);
  });
  it('blkio weight → io weight, linear from [10, 1000] to [1, 10000]', () => {
    expect([0, 10, 500, 1000].map(blkioToIoWeight)).toEqual([0, 1, 4950, 10000]);
  });
  it('memory+swap → swap alone', () => {
    expect(swapToV2(0, -1, 'f')).toBe(-1);
    expect(swapToV2(-1, 100, 'f')).toBe(-1);
    expect(swapToV2(300, 100, 'f')).toBe(200);
    expect(swapToV2(100, 100, 'f')).toBe(0);
    expect(swapToV2(300, -1, 'f')).toBe(300);
    expect(() => swapToV2(50, 100, 'f')).toThrow('memory+swap limit must be >= the memory limit');
    expect(() => swapToV2(50, 0, 'f')).toThrow('a swap limit needs a memory limit');
  });
});

describe('cgroup v1', () => {
  it('memory: limit, swap, reservation, OOM killer, swappiness', () => {
    expect(v1({ memory: { limit: 100, reservation: 50, disableOOMKiller: true, swappiness: 10 } })).toEqual([
      'memory/memory.limit_in_bytes=100',
      'memory/memory.soft_limit_in_bytes=50',
      'memory/memory.oom_control=1',
      'memory/memory.swappiness=10',
    ]);
    expect(() => v1({ memory: { swappiness: 101 } })).toThrow('swappiness: 101 is not in 0-100');
    expect(v1({ memory: { swappiness: -1 } })).toEqual([]);
  });
  it('memory+swap: swap first when it grows past the current limit, else the limit first', () => {
    expect(v1({ memory: { limit: 200, swap: 400 } }, { 'memory/memory.limit_in_bytes': '100\n' })).toEqual([
      'memory/memory.memsw.limit_in_bytes=400',
      'memory/memory.limit_in_bytes=200',
    ]);
    expect(v1({ memory: { limit: 200, swap: 300 } }, { 'memory/memory.limit_in_bytes': '1000\n' })).toEqual([
      'memory/memory.limit_in_bytes=200',
      'memory/memory.memsw.limit_in_bytes=300',
    ]);
    expect(v1({ memory: { limit: -1 } }, { 'memory/memory.memsw.limit_in_bytes': 'x' })).toEqual([
      'memory/memory.memsw.limit_in_bytes=-1',
      'memory/memory.limit_in_bytes=-1',
    ]);
  });
  it('cpu: shares (read back), period/quota (period retried after quota), burst, idle, real-time, cpuset', () => {
    const ws = resourceWrites(
      {
        cpu: {
          shares: 512,
          period: 50000,
          quota: 25000,
          burst: 1000,
          idle: 1,
          realtimePeriod: 1000,
          realtimeRuntime: 500,
          cpus: '0-1',
          mems: '0',
        },
      },
      1,
      probe(),
    );
    expect(brief(ws)).toEqual([
      'cpu/cpu.shares=512',
      'cpu/cpu.cfs_period_us=50000',
      'cpu/cpu.cfs_burst_us=1000',
      'cpu/cpu.cfs_quota_us=25000',
      'cpu/cpu.idle=1',
      'cpu/cpu.rt_period_us=1000',
      'cpu/cpu.rt_runtime_us=500',
      'cpuset/cpuset.cpus=0-1',
      'cpuset/cpuset.mems=0',
    ]);
    expect(ws[0].verify).toBe(true);
    expect(ws[1].retryLast).toBe(true);
  });
  it('pids: 0 is the strictest limit, negative is none', () => {
    expect(v1({ pids: { limit: 10 } })).toEqual(['pids/pids.max=10']);
    expect(v1({ pids: { limit: 0 } })).toEqual(['pids/pids.max=1']);
    expect(v1({ pids: { limit: -1 } })).toEqual(['pids/pids.max=max']);
  });
  it('blkio: CFQ or BFQ weight files, device weights, throttles', () => {
    const b: LinuxResources = {
      blockIO: {
        weight: 300,
        leafWeight: 200,
        weightDevice: [{ major: 8, minor: 0, weight: 100, leafWeight: 50 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
      },
    };
    expect(v1(b, { 'blkio/blkio.weight': '' })).toEqual([
      'blkio/blkio.weight=300',
      'blkio/blkio.leaf_weight=200',
      'blkio/blkio.weight_device=8:0 100',
      'blkio/blkio.leaf_weight_device=8:0 50',
      'blkio/blkio.throttle.read_bps_device=8:0 1048576',
      'blkio/blkio.throttle.write_iops_device=8:16 100',
    ]);
    expect(v1({ blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 100 }] } }, { 'blkio/blkio.bfq.weight': '' })).toEqual(
      ['blkio/blkio.bfq.weight=300', 'blkio/blkio.bfq.weight_device=8:0 100'],
    );
  });
  it('hugetlb (with the reservation limit where present), net_cls, net_prio, rdma', () => {
    expect(v1({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, { 'hugetlb/hugetlb.2MB.rsvd.limit_in_bytes': '' })).toEqual([
      'hugetlb/hugetlb.2MB.limit_in_bytes=4194304',
      'hugetlb/hugetlb.2MB.rsvd.limit_in_bytes=4194304',
    ]);
    expect(() => v1({ hugepageLimits: [{ pageSize: '2mb', limit: 1 }] })).toThrow(/not a page size/);
    expect(v1({ network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }] } })).toEqual([
      'net_cls/net_cls.classid=1048577',
      'net_prio/net_prio.ifpriomap=eth0 5',
    ]);
    expect(v1({ rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } } })).toEqual(['rdma/rdma.max=mlx5_1 hca_handle=3 hca_object=10000']);
  });
  it('unified needs v2', () => {
    expect(() => v1({ unified: { 'memory.high': '1G' } })).toThrow('linux.resources.unified: needs cgroup v2');
  });
  it('devices: the rules in order, then the nodes linux.devices binds, then the defaults', () => {
    const rules = v1DeviceRules(
      {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
        ],
      },
      [{ type: 'c', major: 4, minor: 64 }],
    );
    expect(rules.slice(0, 3)).toEqual(['!a *:* rwm', 'c 10:229 rw', 'c 4:64 rwm']);
    expect(rules.slice(3)).toEqual([...DEFAULT_DEVICE_RULES]);
    expect(brief(resourceWrites(undefined, 1, probe(), { deviceRules: ['!a *:* rwm', 'c 1:3 rwm'] }))).toEqual([
      'devices/devices.deny=a *:* rwm',
      'devices/devices.allow=c 1:3 rwm',
    ]);
    expect(deviceRuleText({ type: 'b', major: 8, access: 'r' }, 'f')).toBe('b 8:* r');
    expect(() => deviceRuleText({ type: 'x' }, 'f')).toThrow(/not a, b or c/);
    expect(() => deviceRuleText({ access: 'rwx' }, 'f')).toThrow(/combination of r, w and m/);
  });
});

describe('cgroup v2', () => {
  it('memory: max, low, swap.max as swap minus memory (optional when it asks for nothing)', () => {
    expect(v2({ memory: { limit: 100, swap: 300, reservation: 50 } })).toEqual([
      'memory/memory.swap.max=200',
      'memory/memory.max=100',
      'memory/memory.low=50',
    ]);
    const ws = resourceWrites({ memory: { limit: -1 } }, 2, probe());
    expect(brief(ws)).toEqual(['memory/memory.swap.max=max', 'memory/memory.max=max']);
    expect(ws[0].optional).toBe(true);
    expect(v2({ memory: { limit: 100, swap: 100 } })).toEqual(['memory/memory.swap.max=0', 'memory/memory.max=100']);
  });
  it('cpu: weight by the curve, cpu.max "quota period" (or max), burst, idle, cpuset', () => {
    expect(v2({ cpu: { shares: 1024, quota: 50000, idle: 0, cpus: '1', mems: '0' } })).toEqual([
      'cpu/cpu.idle=0',
      'cpu/cpu.weight=100',
      'cpu/cpu.max=50000 100000',
      'cpuset/cpuset.cpus=1',
      'cpuset/cpuset.mems=0',
    ]);
    expect(v2({ cpu: { period: 20000 } })).toEqual(['cpu/cpu.max=max 20000']);
    expect(v2({ cpu: { quota: -1, period: 20000, burst: 10 } })).toEqual(['cpu/cpu.max.burst=10', 'cpu/cpu.max=max 20000']);
  });
  it('pids, hugetlb (.max and .rsvd.max), io weight/throttles, rdma', () => {
    expect(v2({ pids: { limit: 0 } })).toEqual(['pids/pids.max=1']);
    expect(v2({ hugepageLimits: [{ pageSize: '1GB', limit: 0 }] }, { 'hugetlb/hugetlb.1GB.rsvd.max': '' })).toEqual([
      'hugetlb/hugetlb.1GB.max=0',
      'hugetlb/hugetlb.1GB.rsvd.max=0',
    ]);
    expect(
      v2({
        blockIO: {
          weight: 1000,
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 10 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 5 }],
        },
      }),
    ).toEqual(['io/io.weight=10000', 'io/io.max=8:0 rbps=10', 'io/io.max=8:0 wiops=5']);
    expect(v2({ blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 100 }] } }, { 'io/io.bfq.weight': '' })).toEqual([
      'io/io.bfq.weight=300',
      'io/io.bfq.weight=8:0 100',
    ]);
    expect(v2({ rdma: { dev: { hcaHandles: 1 } } })).toEqual(['rdma/rdma.max=dev hca_handle=1']);
  });
  it('refuses what v2 cannot hold, naming the field', () => {
    const cases: [LinuxResources, string][] = [
      [{ memory: { swappiness: 60 } }, 'linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness'],
      [{ memory: { disableOOMKiller: true } }, 'linux.resources.memory.disableOOMKiller: cgroup v2 has no switch for the OOM killer'],
      [{ cpu: { realtimeRuntime: 100 } }, 'linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time CPU budget'],
      [{ blockIO: { leafWeight: 10 } }, 'linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight'],
      [
        { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 10 }] } },
        'linux.resources.blockIO.weightDevice[0]: per-device weights need the BFQ scheduler',
      ],
      [{ network: { classID: 1 } }, 'linux.resources.network: cgroup v2 has no net_cls or net_prio controller'],
    ];
    for (const [r, msg] of cases) expect(() => v2(r), msg).toThrow(msg);
  });
  it("unified: files of the container's cgroup, never ones that move or kill processes", () => {
    expect(v2({ unified: { 'memory.high': '1G', 'io.max': '8:0 rbps=1\n8:16 wbps=2' } })).toEqual([
      'memory/memory.high=1G',
      'io/io.max=8:0 rbps=1\n8:16 wbps=2',
    ]);
    for (const key of ['cgroup.procs', 'cgroup.kill', '../x.max', 'memory.max/x', 'nodot', 'cgroup.subtree_control']) {
      expect(() => v2({ unified: { [key]: '1' } }), key).toThrow(/not a resource file/);
    }
  });
});

describe('numbers', () => {
  it('refuses values JSON.parse could not hold exactly', () => {
    expect(() => v1({ memory: { limit: 2 ** 63 } })).toThrow(/is not an integer this runtime can apply exactly/);
    expect(() => v2({ cpu: { quota: 1.5 } })).toThrow(/linux.resources.cpu.quota/);
  });
});

describe('limitFields', () => {
  it('names what a cgroup must hold; devices and kernel memory knobs do not count', () => {
    expect(limitFields(undefined)).toEqual([]);
    expect(limitFields({ devices: [{ allow: false, access: 'rwm' }] })).toEqual([]);
    expect(limitFields({ memory: { kernel: 10, useHierarchy: true } })).toEqual([]);
    expect(limitFields({ memory: {}, cpu: { shares: 2 }, pids: { limit: 5 }, hugepageLimits: [] })).toEqual([
      'linux.resources.cpu',
      'linux.resources.pids',
    ]);
    expect(limitFields({ unified: { 'memory.high': '1' } })).toEqual(['linux.resources.unified']);
  });
});

describe('mergeResources (update)', () => {
  it('replaces the given fields, keeps the rest, updates device lists per device', () => {
    const base: LinuxResources = {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 100, swap: 200 },
      cpu: { quota: 1000, period: 10000 },
      blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 1 }],
    };
    const m = mergeResources(base, {
      memory: { limit: 150 },
      cpu: { quota: 2000 },
      pids: { limit: 3 },
      blockIO: {
        throttleReadBpsDevice: [
          { major: 8, minor: 0, rate: 5 },
          { major: 8, minor: 16, rate: 6 },
        ],
      },
      hugepageLimits: [{ pageSize: '1GB', limit: 2 }],
    });
    expect(m).toEqual({
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 150, swap: 200 },
      cpu: { quota: 2000, period: 10000 },
      pids: { limit: 3 },
      blockIO: {
        throttleReadBpsDevice: [
          { major: 8, minor: 0, rate: 5 },
          { major: 8, minor: 16, rate: 6 },
        ],
      },
      hugepageLimits: [
        { pageSize: '2MB', limit: 1 },
        { pageSize: '1GB', limit: 2 },
      ],
    });
    expect(base.memory!.limit).toBe(100);
  });
});
