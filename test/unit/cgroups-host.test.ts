// Reading the host's cgroup layout: mountinfo + /proc/self/cgroup of a v1, a
// hybrid and a pure v2 host (texts as the kernel prints them).
import { describe, expect, it } from 'vitest';
import { buildHost, dirOf, hierarchyFor, parseMountinfo, parseProcCgroup } from '../../src/cgroups/host';

const V1_MOUNTS = `31 23 0:28 / /sys/fs/cgroup rw,relatime shared:5 - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:6 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime shared:10 - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime shared:11 - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime shared:13 - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime shared:14 - cgroup cgroup rw,xattr,name=systemd
90 23 0:32 /docker /mnt/mem\\040x rw - cgroup cgroup rw,memory`;

const V1_CGROUP = `12:pids:/user.slice
5:freezer:/
4:memory:/user.slice/session-1.scope
3:devices:/user.slice
2:cpu,cpuacct:/
1:name=systemd:/user.slice/session-1.scope
0::/user.slice/session-1.scope`;

describe('parsers', () => {
  it('reads cgroup mounts from mountinfo, unescaping paths', () => {
    const m = parseMountinfo(V1_MOUNTS);
    expect(m.map((x) => x.mountpoint)).toEqual([
      '/sys/fs/cgroup/cpu,cpuacct',
      '/sys/fs/cgroup/memory',
      '/sys/fs/cgroup/devices',
      '/sys/fs/cgroup/freezer',
      '/sys/fs/cgroup/pids',
      '/sys/fs/cgroup/systemd',
      '/mnt/mem x',
    ]);
    expect(m[5].superOptions).toContain('name=systemd');
    expect(m[6].root).toBe('/docker');
  });

  it('reads /proc/self/cgroup, paths with colons kept whole', () => {
    expect(parseProcCgroup('3:memory:/a:b:c\n0::/x\n')).toEqual([
      { id: 3, key: 'memory', path: '/a:b:c' },
      { id: 0, key: '', path: '/x' },
    ]);
  });
});

describe('buildHost', () => {
  it('v1: one hierarchy per mount, our cgroup in each; the host bind of a subtree is not chosen', () => {
    const h = buildHost(V1_CGROUP, V1_MOUNTS);
    expect(h.mode).toBe('v1');
    expect(h.base).toBe('/sys/fs/cgroup');
    expect(h.hierarchies.map((x) => [x.key, x.mountpoint, x.own])).toEqual([
      ['pids', '/sys/fs/cgroup/pids', '/user.slice'],
      ['freezer', '/sys/fs/cgroup/freezer', '/'],
      ['memory', '/sys/fs/cgroup/memory', '/user.slice/session-1.scope'],
      ['devices', '/sys/fs/cgroup/devices', '/user.slice'],
      ['cpu,cpuacct', '/sys/fs/cgroup/cpu,cpuacct', '/'],
      ['name=systemd', '/sys/fs/cgroup/systemd', '/user.slice/session-1.scope'],
    ]);
    expect(h.hierarchies[4].controllers).toEqual(['cpu', 'cpuacct']);
    expect(h.hierarchies[5].controllers).toEqual([]);
    expect(hierarchyFor(h, 'cpuacct')?.key).toBe('cpu,cpuacct');
    expect(hierarchyFor(h, 'hugetlb')).toBeUndefined();
  });

  it('hybrid: the v1 hierarchies plus the cgroup2 one at unified', () => {
    const mounts = `${V1_MOUNTS}\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:15 - cgroup2 cgroup2 rw`;
    const h = buildHost(V1_CGROUP, mounts);
    expect(h.mode).toBe('hybrid');
    const v2 = h.hierarchies.at(-1)!;
    expect([v2.key, v2.mountpoint, v2.own]).toEqual(['', '/sys/fs/cgroup/unified', '/user.slice/session-1.scope']);
  });

  it('v2: the one cgroup2 hierarchy at /sys/fs/cgroup', () => {
    const h = buildHost(
      '0::/user.slice/user-1000.slice/session-2.scope\n',
      '25 22 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate',
    );
    expect(h.mode).toBe('v2');
    expect(h.hierarchies).toEqual([
      { key: '', controllers: [], mountpoint: '/sys/fs/cgroup', mountRoot: '/', own: '/user.slice/user-1000.slice/session-2.scope' },
    ]);
    expect(hierarchyFor(h, 'memory')?.mountpoint).toBe('/sys/fs/cgroup');
  });

  it('a mount of a subtree (in a container): directories relative to its root', () => {
    const h = buildHost('0::/kubepods/pod1/c1\n', '25 22 0:23 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    expect(dirOf(h.hierarchies[0], '/kubepods/pod1/c1/x')).toBe('/sys/fs/cgroup/c1/x');
    expect(dirOf(h.hierarchies[0], '/other')).toBeUndefined();
  });

  it('no cgroup2 mount means v1 even though the kernel prints 0::', () => {
    expect(buildHost('4:memory:/\n0::/\n', '35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory').mode).toBe('v1');
  });
});
