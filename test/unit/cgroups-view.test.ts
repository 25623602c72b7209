// The container's /sys/fs/cgroup: its own cgroups, read-only, whatever the
// mount asks (v1: tmpfs + a bind per hierarchy; v2: a fresh cgroup2 mount in
// a cgroup namespace of its own, else a bind of its directory).
import { describe, expect, it } from 'vitest';
import { ATTR, planMounts } from '../../src/container/mounts';
import { cgroupMountSteps, type CgroupView } from '../../src/cgroups/view';

const LOCK = ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC;
// The mount's own options: nosuid, noexec, nodev, rw.
const bits = { attrs: ATTR.NOSUID | ATTR.NOEXEC | ATTR.NODEV, propagation: 0, rdonly: ATTR.RDONLY, lockdown: LOCK };
const bind = (source: string, dest: string) => ({
  op: 'bind',
  source,
  dest,
  attrs: LOCK,
  propagation: 0,
  recursive: false,
  kind: 'dir',
  nofollow: true,
  lock: true,
});

const V1: CgroupView = {
  mode: 'hybrid',
  v1: [
    { name: 'memory', dir: '/sys/fs/cgroup/memory/c1' },
    { name: 'cpu,cpuacct', dir: '/sys/fs/cgroup/cpu,cpuacct/c1' },
  ],
  v2: { name: 'unified', dir: '/sys/fs/cgroup/unified/c1' },
  links: [
    { name: 'cpu', target: 'cpu,cpuacct' },
    { name: 'stray', target: 'elsewhere' },
  ],
};

describe('cgroup mount steps', () => {
  it("v1/hybrid: tmpfs, read-only binds of the container's cgroups, the links, then the tmpfs read-only", () => {
    const steps = cgroupMountSteps('/sys/fs/cgroup', V1, false, bits);
    expect(steps).toEqual([
      {
        op: 'fs',
        fstype: 'tmpfs',
        source: 'cgroup',
        dest: '/sys/fs/cgroup',
        attrs: ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC,
        propagation: 0,
        options: ['mode=755'],
        nofollow: true,
      },
      bind('/sys/fs/cgroup/memory/c1', '/sys/fs/cgroup/memory'),
      bind('/sys/fs/cgroup/cpu,cpuacct/c1', '/sys/fs/cgroup/cpu,cpuacct'),
      { op: 'symlink', target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpu' },
      bind('/sys/fs/cgroup/unified/c1', '/sys/fs/cgroup/unified'),
      { op: 'rdonly', path: '/sys/fs/cgroup' },
    ]);
  });

  it('hybrid in a cgroup namespace: the unified one is a fresh read-only cgroup2 mount (a bind if refused)', () => {
    const u = cgroupMountSteps('/sys/fs/cgroup', V1, true, bits)[4];
    expect(u).toMatchObject({
      op: 'fs',
      fstype: 'cgroup2',
      dest: '/sys/fs/cgroup/unified',
      attrs: LOCK,
      fallback: { source: '/sys/fs/cgroup/unified/c1', attrs: LOCK },
    });
  });

  it("v2: a fresh cgroup2 mount with a cgroup namespace, else a read-only bind of the container's directory", () => {
    const v2: CgroupView = { mode: 'v2', v1: [], v2: { name: '', dir: '/sys/fs/cgroup/a/c1' }, links: [] };
    const [fresh] = cgroupMountSteps('/sys/fs/cgroup', v2, true, bits);
    expect(fresh).toMatchObject({
      op: 'fs',
      fstype: 'cgroup2',
      source: 'cgroup2',
      attrs: LOCK,
      fallback: { source: '/sys/fs/cgroup/a/c1' },
    });
    expect(cgroupMountSteps('/sys/fs/cgroup', v2, false, bits)).toEqual([bind('/sys/fs/cgroup/a/c1', '/sys/fs/cgroup')]);
  });

  it("planMounts puts the steps in the config's order, with the cgroup namespace from the config", () => {
    const config = {
      mounts: [
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
      ],
    } as never;
    const v2: CgroupView = { mode: 'v2', v1: [], v2: { name: '', dir: '/sys/fs/cgroup/c1' }, links: [] };
    const steps = planMounts(config, {
      bundle: '/b',
      created: new Set(['user', 'mount', 'cgroup']),
      gidMap: [],
      cgroup: v2,
    });
    expect(steps.slice(0, 2).map((s) => (s.op === 'fs' ? s.fstype : s.op))).toEqual(['cgroup2', 'tmpfs']);
  });
});

describe('the runner joins the cgroup first', () => {
  it('create and exec plans carry `cgroup FILE…` before any namespace is joined or made', async () => {
    const { buildPlan } = await import('../../src/container/plan');
    const { parseIdMap } = await import('../../src/container/idmap');
    const { planRecords } = await import('../../src/runner/protocol');
    const caller = { euid: 0, egid: 0, uidMap: parseIdMap('0 0 4294967295'), gidMap: parseIdMap('0 0 4294967295'), canSetIds: true };
    const config = {
      ociVersion: '1.0.2',
      root: { path: 'r' },
      process: { args: ['true'], cwd: '/' },
      linux: { namespaces: [{ type: 'network', path: '/run/netns/n' }] },
    } as never;
    const files = ['/sys/fs/cgroup/pids/c1/cgroup.procs', '/sys/fs/cgroup/memory/c1/cgroup.procs'];
    const recs = planRecords(
      buildPlan(config, { bundle: '/b', rootfs: '/b/r', stateDir: '/s', caller, wait: false, preserveFds: 0, cgroupProcs: files }),
    );
    const tags = recs.map((r) => r[0]);
    expect(recs.find((r) => r[0] === 'cgroup')).toEqual(['cgroup', ...files]);
    expect(tags.indexOf('cgroup')).toBeLessThan(tags.indexOf('join'));
    expect(tags.indexOf('cgroup')).toBeLessThan(tags.indexOf('unshare'));
    expect(
      planRecords(buildPlan(config, { bundle: '/b', rootfs: '/b/r', stateDir: '/s', caller, wait: false, preserveFds: 0 })).some(
        (r) => r[0] === 'cgroup',
      ),
    ).toBe(false);
  });
});
