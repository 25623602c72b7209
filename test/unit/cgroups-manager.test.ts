// The manager against a fake cgroup file system (plain files laid out as v1,
// v2 and hybrid hierarchies): set-up, every resource written where it
// belongs, the refusals, pids, freezing, signalling, update and stats.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addProcess,
  applyWrites,
  cgroupPids,
  dirFor,
  ensureMember,
  freeze,
  isFrozen,
  procsFiles,
  setUpCgroup,
  signalAll,
  thaw,
  updateResources,
  viewFor,
  type CgroupRecord,
  type SetUpRequest,
} from '../../src/cgroups/manager';
import { cgroupStats, oomKills, stringify } from '../../src/cgroups/stats';
import { fakeTree, type FakeTree } from '../helpers/fake-cgroupfs';
import type { LinuxResources } from '../../src/spec/types';

let tree: FakeTree | undefined;
afterEach(() => tree?.cleanup());

const ALL: LinuxResources = {
  devices: [{ allow: false, access: 'rwm' }],
  memory: { limit: 67108864, reservation: 33554432, swap: 134217728 },
  cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' },
  pids: { limit: 20 },
  blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
  hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }],
};
const V2_ALL: LinuxResources = { ...ALL, blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] } };

function req(o: Partial<SetUpRequest> = {}): SetUpRequest {
  return { id: 'c1', stateRoot: '/run/x', manager: 'cgroupfs', privileged: true, cgroupsPath: '/c1', ...o };
}

/** Sets up with every leaf made beforehand (a fake tree has no kernel to fill new directories). */
function setUp(t: FakeTree, r: Partial<SetUpRequest>, extra: Record<string, Record<string, string>> = {}) {
  for (const h of t.host.hierarchies) t.cgroup(h.key, 'c1', extra[h.key]);
  const saved: (CgroupRecord | undefined)[] = [];
  const s = setUpCgroup(t.host, req(r), (rec) => saved.push(rec && JSON.parse(JSON.stringify(rec))));
  return { ...s, saved };
}

const leaf = (t: FakeTree, key: string, file: string) =>
  t.read(path.join(t.host.hierarchies.find((h) => h.key === key)!.mountpoint, 'c1', file)).trim();

describe('cgroup v1', () => {
  it('records the pending directories first, then the cgroup; every resource lands in its hierarchy', () => {
    tree = fakeTree('v1');
    const s = setUp(tree, { resources: ALL });
    expect(s.saved[0]!.pending).toHaveLength(tree.host.hierarchies.length);
    expect(s.saved[0]!.dirs).toEqual([]);
    expect(s.saved.at(-1)!.dirs.map((d) => d.key)).toEqual(tree.host.hierarchies.map((h) => h.key));
    expect(s.record!.freezer).toEqual({ file: path.join(tree.host.base, 'freezer/c1/freezer.state'), frozen: 'FROZEN' });
    expect(leaf(tree, 'cpuset', 'cpuset.cpus')).toBe('0-1'); // inherited before any process may join
    applyWrites(s.record!, s.writes);
    expect(leaf(tree, 'memory', 'memory.limit_in_bytes')).toBe('67108864');
    expect(leaf(tree, 'memory', 'memory.memsw.limit_in_bytes')).toBe('134217728');
    expect(leaf(tree, 'memory', 'memory.soft_limit_in_bytes')).toBe('33554432');
    expect(leaf(tree, 'cpu,cpuacct', 'cpu.shares')).toBe('512');
    expect(leaf(tree, 'cpu,cpuacct', 'cpu.cfs_quota_us')).toBe('20000');
    expect(leaf(tree, 'cpu,cpuacct', 'cpu.cfs_period_us')).toBe('100000');
    expect(leaf(tree, 'cpuset', 'cpuset.cpus')).toBe('0');
    expect(leaf(tree, 'pids', 'pids.max')).toBe('20');
    expect(leaf(tree, 'blkio', 'blkio.weight')).toBe('300');
    expect(leaf(tree, 'blkio', 'blkio.throttle.read_bps_device')).toBe('8:0 1048576');
    expect(leaf(tree, 'hugetlb', 'hugetlb.2MB.limit_in_bytes')).toBe('2097152');
    expect(leaf(tree, 'hugetlb', 'hugetlb.2MB.rsvd.limit_in_bytes')).toBe('2097152');
    // As root: deny all first, then the defaults (the last one written stays in a plain file).
    expect(s.writes.filter((w) => w.controller === 'devices')[0]).toMatchObject({ file: 'devices.deny', value: 'a *:* rwm' });
    expect(leaf(tree, 'devices', 'devices.allow')).toBe('c 10:200 rwm');
  });

  it('a cgroup that has processes, or is frozen, is not taken over', () => {
    tree = fakeTree('v1');
    expect(() => setUp(tree!, {}, { pids: { 'cgroup.procs': '4242\n' } })).toThrow(
      /c1: container's cgroup is not empty: 1 process\(es\) found$/,
    );
    tree.cleanup();
    tree = fakeTree('v1');
    expect(() => setUp(tree!, {}, { freezer: { 'freezer.state': 'FROZEN\n' } })).toThrow(/c1: container's cgroup unexpectedly frozen$/);
  });

  it('a limit whose controller is not mounted is refused, naming the field', () => {
    tree = fakeTree('v1');
    tree.host.hierarchies = tree.host.hierarchies.filter((h) => h.key !== 'hugetlb');
    expect(() => setUp(tree!, { resources: { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] } })).toThrow(
      'linux.resources.hugepageLimits[0]: cannot be applied: no hugetlb controller is mounted on this host',
    );
  });

  it("the v1 view: one read-only bind per hierarchy of the container's cgroup, the host's symlinks", () => {
    tree = fakeTree('v1');
    const s = setUp(tree, {});
    expect(s.view.v1.find((h) => h.name === 'memory')!.dir).toBe(path.join(tree.host.base, 'memory/c1'));
    expect(s.view.v1.find((h) => h.name === 'systemd')).toBeDefined();
    expect(s.view.links).toEqual([{ name: 'cpu', target: 'cpu,cpuacct' }]);
    expect(viewFor(tree.host, undefined).v1.find((h) => h.name === 'memory')!.dir).toBe(path.join(tree.host.base, 'memory'));
    expect(procsFiles(s.record)).toContain(path.join(tree.host.base, 'pids/c1/cgroup.procs'));
  });

  it('freezes and thaws through freezer.state', () => {
    tree = fakeTree('v1');
    const { record } = setUp(tree, {});
    freeze(record!);
    expect(isFrozen(record!)).toBe(true);
    thaw(record!);
    expect(isFrozen(record!)).toBe(false);
  });

  it('update merges, applies and refuses a limit below the usage when asked to check', () => {
    tree = fakeTree('v1');
    const s = setUp(tree, { resources: { memory: { limit: 1 << 26 }, pids: { limit: 5 } } });
    applyWrites(s.record!, s.writes);
    const merged = updateResources(s.record!, { pids: { limit: 9 } });
    expect(merged).toEqual({ memory: { limit: 1 << 26 }, pids: { limit: 9 } });
    expect(leaf(tree, 'pids', 'pids.max')).toBe('9');
    expect(() => updateResources(s.record!, { memory: { limit: 500, checkBeforeUpdate: true } })).toThrow(
      'rejecting memory limit 500 <= usage 1000',
    );
  });

  it("stats in runc's shape, exact beyond 2^53", () => {
    tree = fakeTree('v1');
    const { record } = setUp(tree, {});
    const st = cgroupStats(record!);
    const json = stringify(st as never);
    expect(json).toContain('"usage":{"limit":9223372036854771712,"usage":1000,"max":2000,"failcnt":0}');
    expect(JSON.parse(json).cpu.usage).toMatchObject({ total: 123456789, percpu: [100, 200], user: 30000000, kernel: 40000000 });
    expect(JSON.parse(json).pids).toEqual({ current: 3, limit: 0 });
    expect(JSON.parse(json).blkio.ioServiceBytesRecursive).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 0 },
    ]);
    expect(oomKills(record!)).toBe(2n);
  });
});

describe('cgroup v2', () => {
  it('enables controllers down the tree; resources in the one directory; freeze waits for "frozen 1"', () => {
    tree = fakeTree('v2');
    const s = setUp(tree, { resources: V2_ALL }, { '': { 'cgroup.events': 'populated 1\nfrozen 1\n' } });
    expect(tree.read(path.join(tree.host.base, 'cgroup.subtree_control'))).toMatch(/^\+\w+$/);
    applyWrites(s.record!, s.writes);
    expect(leaf(tree, '', 'memory.max')).toBe('67108864');
    expect(leaf(tree, '', 'memory.swap.max')).toBe('67108864');
    expect(leaf(tree, '', 'memory.low')).toBe('33554432');
    expect(leaf(tree, '', 'cpu.weight')).toBe('59');
    expect(leaf(tree, '', 'cpu.max')).toBe('20000 100000');
    expect(leaf(tree, '', 'pids.max')).toBe('20');
    expect(leaf(tree, '', 'io.weight')).toBe(String(1 + Math.floor(((300 - 10) * 9999) / 990)));
    expect(leaf(tree, '', 'io.max')).toBe('8:0 rbps=1048576');
    expect(leaf(tree, '', 'hugetlb.2MB.max')).toBe('2097152');
    expect(leaf(tree, '', 'cpuset.cpus')).toBe('0');
    expect(s.writes.some((w) => w.controller === 'devices')).toBe(false); // by construction on v2
    expect(s.record!.freezer).toEqual({ file: path.join(tree.host.base, 'c1/cgroup.freeze'), frozen: '1' });
    freeze(s.record!);
    expect(isFrozen(s.record!)).toBe(true);
    thaw(s.record!);
    expect(leaf(tree, '', 'cgroup.freeze')).toBe('0');
  });

  it('a controller the cgroup may not use is refused, naming the field', () => {
    tree = fakeTree('v2');
    expect(() => setUp(tree!, { resources: { pids: { limit: 3 } } }, { '': { 'cgroup.controllers': 'memory\n' } })).toThrow(
      /linux.resources.pids.limit: cannot be applied: the pids controller is not available in .*c1/,
    );
  });

  it('unified keys are written as given', () => {
    tree = fakeTree('v2');
    const s = setUp(tree, { resources: { unified: { 'memory.max': '1000' } } });
    applyWrites(s.record!, s.writes);
    expect(leaf(tree, '', 'memory.max')).toBe('1000');
  });

  it("the v2 view is the container's directory; stats from cgroup2 files", () => {
    tree = fakeTree('v2');
    const s = setUp(tree, {});
    expect(s.view).toEqual({ mode: 'v2', v1: [], v2: { name: '', dir: path.join(tree.host.base, 'c1') }, links: [] });
    const st = JSON.parse(stringify(cgroupStats(s.record!) as never));
    expect(st.memory.usage).toEqual({ limit: 18446744073709552000, usage: 5000, max: 6000, failcnt: 3 });
    expect(st.cpu.usage).toEqual({ total: 10000, user: 6000, kernel: 4000 });
    expect(st.blkio.ioServiceBytesRecursive[1]).toEqual({ major: 8, minor: 0, op: 'Write', value: 20 });
    expect(oomKills(s.record!)).toBe(1n);
  });
});

describe('hybrid', () => {
  it("resources through v1, the unified cgroup made too, the freezer is v1's", () => {
    tree = fakeTree('hybrid');
    const s = setUp(tree, { resources: { pids: { limit: 4 } } });
    expect(s.record!.mode).toBe('hybrid');
    expect(dirFor(s.record!, 'pids')).toBe(path.join(tree.host.base, 'pids/c1'));
    expect(s.record!.dirs.find((d) => d.key === '')!.dir).toBe(path.join(tree.host.base, 'unified/c1'));
    expect(s.record!.freezer!.frozen).toBe('FROZEN');
    expect(s.view.v2).toEqual({ name: 'unified', dir: path.join(tree.host.base, 'unified/c1') });
    expect(() =>
      setUpCgroup(tree!.host, req({ cgroupsPath: '/c2', resources: { unified: { 'memory.high': '1' } } }), () => undefined),
    ).toThrow(/needs cgroup v2/);
  });
});

describe('processes', () => {
  it('finds pids in the cgroup and below; signals them (v2: cgroup.kill, then each)', async () => {
    for (const mode of ['v1', 'v2', 'hybrid'] as const) {
      tree = fakeTree(mode);
      const { record } = setUp(tree, {}, { freezer: {}, '': { 'cgroup.events': 'frozen 1\n' } });
      const child = spawn('sleep', ['30'], { stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
      const sub = path.join(record!.dirs[0].dir, 'sub');
      fs.mkdirSync(sub);
      fs.writeFileSync(path.join(sub, 'cgroup.procs'), `${child.pid}\n`);
      expect(cgroupPids(record!), mode).toEqual([child.pid]);
      expect(signalAll(record!, 9)).toEqual([child.pid]);
      expect(await exited).toBe('SIGKILL');
      if (mode !== 'v1') expect(leaf(tree, '', 'cgroup.kill')).toBe('1');
      tree.cleanup();
      tree = undefined;
    }
  });

  it('addProcess writes the pid into every hierarchy; ensureMember only where /proc/PID/cgroup says it is not', () => {
    tree = fakeTree('hybrid');
    const { record } = setUp(tree, {});
    addProcess(record!, 4321);
    for (const d of record!.dirs) expect(fs.readFileSync(path.join(d.dir, 'cgroup.procs'), 'utf8')).toBe('4321');
    // We are in none of the fake tree's cgroups: every hierarchy gets our pid.
    ensureMember(record!, process.pid, tree.host);
    for (const d of record!.dirs) expect(fs.readFileSync(path.join(d.dir, 'cgroup.procs'), 'utf8')).toBe(String(process.pid));
    // A host whose hierarchies show our own cgroups at the leaves: nothing to write.
    const own = {
      ...tree.host,
      hierarchies: tree.host.hierarchies.map((h) => ({ ...h, mountRoot: '/', mountpoint: path.join(tree!.host.base, 'own', h.key) })),
    };
    const mine = fs
      .readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':'));
    const dirs = record!.dirs.filter((d) => mine.some((m) => m[1] === d.key));
    expect(dirs.length).toBeGreaterThan(0);
    const rec = {
      ...record!,
      dirs: dirs.map((d) => ({
        ...d,
        dir: path.join(tree!.host.base, 'own', d.key, mine.find((m) => m[1] === d.key)![2]).replace(/\/$/, ''),
      })),
    };
    ensureMember(rec, process.pid, own); // would throw: none of these directories exist
  });
});

describe('no cgroup', () => {
  it('--cgroup-manager disabled: none made; a limit is refused', () => {
    tree = fakeTree('v1');
    expect(setUpCgroup(tree.host, req({ disabled: true }), () => undefined).record).toBeUndefined();
    expect(() => setUpCgroup(tree!.host, req({ disabled: true, resources: { pids: { limit: 1 } } }), () => undefined)).toThrow(
      'linux.resources.pids: cannot be applied: --cgroup-manager disabled',
    );
  });
});
