// Where the container's cgroup goes: runc's absolute/relative rules, the
// default name, systemd's slice:prefix:name turned into a cgroupfs path, and
// the paths that must be refused.
import { describe, expect, it } from 'vitest';
import { buildHost } from '../../src/cgroups/host';
import {
  cgroupPaths,
  checkPath,
  cleanPath,
  defaultName,
  expandSlice,
  innerPath,
  systemdPath,
  type PathRequest,
} from '../../src/cgroups/paths';

const V1 = buildHost(
  '4:memory:/user.slice/s1.scope\n2:cpu,cpuacct:/\n0::/user.slice/s1.scope\n',
  '1 0 0:1 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n2 0 0:2 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
);
const HYBRID = buildHost(
  '4:memory:/user.slice/s1.scope\n0::/user.slice/s1.scope\n',
  '1 0 0:1 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n3 0 0:3 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
);
const V2 = buildHost(
  '0::/user.slice/user-1000.slice/user@1000.service/app.slice/shell.scope\n',
  '1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
);

const req = (o: Partial<PathRequest>): PathRequest => ({
  id: 'c1',
  stateRoot: '/run/ch-run-oci',
  manager: 'cgroupfs',
  privileged: true,
  ...o,
});

describe("cleanPath (runc's)", () => {
  it.each([
    ['/a/b/', '/a/b'],
    ['/../../x', '/x'],
    ['/a/./b//c', '/a/b/c'],
    ['/', '/'],
    ['a/b', 'a/b'],
    ['../../x', 'x'],
    ['a/../../b', 'b'],
    ['.', ''],
    ['', ''],
  ])('%s → %s', (p, want) => expect(cleanPath(p)).toBe(want));
});

describe('innerPath', () => {
  it('absolute and relative cgroupsPath, cleaned', () => {
    expect(innerPath(req({ cgroupsPath: '/docker/abc' }))).toEqual({ path: '/docker/abc', isDefault: false });
    expect(innerPath(req({ cgroupsPath: '../../pods/x' }))).toEqual({ path: 'pods/x', isDefault: false });
  });

  it('refuses NUL, newlines and absurd lengths, echoing the path cut short', () => {
    expect(() => innerPath(req({ cgroupsPath: 'a\nb' }))).toThrow('linux.cgroupsPath "a\\nb": must not contain NUL or newline characters');
    expect(() => innerPath(req({ cgroupsPath: '/a\0' }))).toThrow(/must not contain NUL/);
    expect(() => innerPath(req({ cgroupsPath: 'x'.repeat(5000) }))).toThrow(
      new RegExp(`^linux.cgroupsPath "x{200}…": longer than 4096 characters$`),
    );
  });

  it('absent: a name unique per state root and id', () => {
    const a = innerPath(req({})).path;
    expect(a).toMatch(/^ch-run-oci-[0-9a-f]{8}-c1$/);
    expect(innerPath(req({ stateRoot: '/tmp/other' })).path).not.toBe(a);
    expect(defaultName('x'.repeat(1024), '/r')).toMatch(/^ch-run-oci-[0-9a-f]{8}-[0-9a-f]{64}$/);
  });
});

describe('systemd paths', () => {
  it('slices nest by their dashes', () => {
    expect(expandSlice('system.slice', 'f')).toBe('/system.slice');
    expect(expandSlice('kubepods-burstable-pod1.slice', 'f')).toBe(
      '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice',
    );
    expect(expandSlice('-.slice', 'f')).toBe('/');
    for (const bad of ['a--b.slice', '-a.slice', 'a-.slice', 'x.scope', 'a/b.slice'])
      expect(() => expandSlice(bad, 'f'), bad).toThrow(/not a valid systemd slice/);
  });

  it('slice:prefix:name → SLICE/prefix-name.scope; a slice name is the cgroup itself; defaults', () => {
    const s = (cgroupsPath: string | undefined, privileged = true) => systemdPath(req({ cgroupsPath, manager: 'systemd', privileged }));
    expect(s('system.slice:docker:abc')).toBe('/system.slice/docker-abc.scope');
    expect(s('kubepods-besteffort.slice:cri-containerd:abc')).toBe('/kubepods.slice/kubepods-besteffort.slice/cri-containerd-abc.scope');
    expect(s(':libpod:abc')).toBe('/system.slice/libpod-abc.scope');
    expect(s(':libpod:abc', false)).toBe('/user.slice/libpod-abc.scope');
    expect(s('system.slice::abc')).toBe('/system.slice/abc.scope');
    expect(s('system.slice:x:machine-a.slice')).toBe('/machine.slice/machine-a.slice');
    expect(s(undefined)).toBe('/system.slice/ch-run-oci-c1.scope');
    expect(() => s('/docker/abc')).toThrow('linux.cgroupsPath: expected "slice:prefix:name" for systemd cgroups, got "/docker/abc"');
    expect(() => s('a.slice:p:')).toThrow(/not a valid unit name/);
  });

  it("an unprivileged caller's systemd path is relative to its own cgroup", () => {
    expect(innerPath(req({ cgroupsPath: 'user.slice:libpod:abc', manager: 'systemd', privileged: false })).path).toBe(
      'user.slice/libpod-abc.scope',
    );
  });
});

describe('cgroupPaths', () => {
  it('v1: absolute from each root, relative under our own cgroup per hierarchy', () => {
    expect(cgroupPaths(V1, { path: '/docker/x', isDefault: false })).toEqual(
      new Map([
        ['memory', '/docker/x'],
        ['cpu,cpuacct', '/docker/x'],
      ]),
    );
    expect(cgroupPaths(V1, { path: 'pods/x', isDefault: false })).toEqual(
      new Map([
        ['memory', '/user.slice/s1.scope/pods/x'],
        ['cpu,cpuacct', '/pods/x'],
      ]),
    );
  });

  it('hybrid: the unified hierarchy like a v1 one', () => {
    expect(cgroupPaths(HYBRID, { path: 'x', isDefault: false }).get('')).toBe('/user.slice/s1.scope/x');
  });

  it('pure v2: relative paths go under the parent of our cgroup (it holds no processes)', () => {
    expect(cgroupPaths(V2, { path: 'x', isDefault: false }).get('')).toBe('/user.slice/user-1000.slice/user@1000.service/app.slice/x');
  });

  it('refuses the root, our own cgroup and its parents', () => {
    for (const p of ['/', '/user.slice', '/user.slice/s1.scope']) {
      expect(() => checkPath(V1, cgroupPaths(V1, { path: p, isDefault: false }), 'f'), p).toThrow(
        /is the caller's own cgroup or one of its parents/,
      );
    }
    expect(() => checkPath(V1, cgroupPaths(V1, { path: '', isDefault: false }), 'f')).toThrow(/own cgroup/);
    expect(() => checkPath(V1, cgroupPaths(V1, { path: '/user.slice/s1.scope/c', isDefault: false }), 'f')).not.toThrow();
    expect(() => checkPath(V1, cgroupPaths(V1, { path: '/user.slice2', isDefault: false }), 'f')).not.toThrow();
  });
});
