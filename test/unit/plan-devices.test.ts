// linux.devices: each device is a bind of a host node of the same type and
// number; which host node is chosen, and the errors when there is none.
import { describe, expect, it } from 'vitest';
import { devicePolicy, hostDevices, hostSourceFor, type DeviceLookup, type HostNode } from '../../src/container/devices';
import { deviceSteps } from '../../src/container/mounts';
import type { OciConfig } from '../../src/spec/types';

const HOST: HostNode[] = [
  { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
  { path: '/dev/null', type: 'c', major: 1, minor: 3 },
  { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
  { path: '/dev/net/tun', type: 'c', major: 10, minor: 200 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9 },
];
const lookup: DeviceLookup = { at: (p) => HOST.find((n) => n.path === p), all: () => HOST };

describe('hostSourceFor', () => {
  it('binds the host node at the same path when it is the same device', () => {
    expect(hostSourceFor({ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }, 'f', lookup)).toMatchObject({ path: '/dev/fuse' });
  });
  it('else the host node with that type and number (podman --device /dev/null:/dev/xnull)', () => {
    expect(hostSourceFor({ type: 'c', path: '/dev/xnull', major: 1, minor: 3, fileMode: 8630 }, 'f', lookup)).toMatchObject({
      path: '/dev/null',
    });
    expect(hostSourceFor({ type: 'u', path: '/dev/tun', major: 10, minor: 200 }, 'f', lookup)).toMatchObject({ path: '/dev/net/tun' });
  });
  it('does not take a node of the other type or number at the same path', () => {
    expect(() => hostSourceFor({ type: 'b', path: '/dev/fuse', major: 10, minor: 229 }, 'linux.devices[0] /dev/fuse', lookup)).toThrow(
      'linux.devices[0] /dev/fuse: no host device b 10:229 to bind (device nodes cannot be made without privilege)',
    );
  });
  it('names the field when major/minor are missing or the type is a fifo', () => {
    expect(() => hostSourceFor({ type: 'c', path: '/dev/x' }, 'linux.devices[2] /dev/x', lookup)).toThrow(
      'linux.devices[2] /dev/x: type c needs major and minor',
    );
    expect(() => hostSourceFor({ type: 'p', path: '/dev/p' }, 'linux.devices[0] /dev/p', lookup)).toThrow(
      /linux\.devices\[0\] \/dev\/p: a fifo device/,
    );
  });
});

describe('deviceSteps', () => {
  const dests = (c: unknown) =>
    deviceSteps(c as OciConfig, lookup).map((s) =>
      s.op === 'bind' ? `${s.source}=>${s.dest}` : s.op === 'symlink' ? `${s.path}->${s.target}` : s.op,
    );
  it('the default set, then the configured devices as binds onto files', () => {
    const steps = deviceSteps(
      { linux: { devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }] } } as unknown as OciConfig,
      lookup,
    );
    expect(steps.filter((s) => s.op === 'bind').map((s) => s.op === 'bind' && s.dest)).toEqual([
      '/dev/null',
      '/dev/zero',
      '/dev/full',
      '/dev/tty',
      '/dev/random',
      '/dev/urandom',
      '/dev/fuse',
    ]);
    expect(steps.find((s) => s.op === 'bind' && s.dest === '/dev/fuse')).toMatchObject({
      source: '/dev/fuse',
      recursive: false,
      kind: 'file',
      attrs: 0,
      device: { type: 'c', major: 10, minor: 229 },
    });
  });
  it('a configured device replaces the default one at its path, once', () => {
    const d = dests({ linux: { devices: [{ type: 'c', path: '/dev/null', major: 1, minor: 3 }] } });
    expect(d.filter((x) => x.endsWith('=>/dev/null'))).toEqual(['/dev/null=>/dev/null']);
  });
  it('relative paths are inside the container', () => {
    expect(dests({ linux: { devices: [{ type: 'c', path: 'dev/xnull', major: 1, minor: 3 }] } })).toContain('/dev/null=>/dev/xnull');
  });
});

describe('the real host', () => {
  it('finds /dev/null as c 1:3, by path and in the scan', () => {
    const real = hostDevices();
    expect(real.at('/dev/null')).toEqual({ path: '/dev/null', type: 'c', major: 1, minor: 3 });
    expect(real.at('/dev')).toBeUndefined();
    expect(real.all()).toContainEqual({ path: '/dev/null', type: 'c', major: 1, minor: 3 });
  });
});

describe('devicePolicy (linux.resources.devices, read as the device cgroup does)', () => {
  const fuse = { type: 'c' as const, major: 10, minor: 229 };
  const disk = { type: 'b' as const, major: 8, minor: 0 };
  it('denies everything without rules, and after "deny all"', () => {
    for (const rules of [undefined, [], [{ allow: false, access: 'rwm' }]]) {
      const p = devicePolicy(rules);
      expect(p.allowsAll).toBe(false);
      expect(p.allows(fuse)).toBe(false);
    }
  });
  it('allows what a later rule allows; the last matching rule decides', () => {
    const p = devicePolicy([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ]);
    expect([p.allowsAll, p.allows(fuse), p.allows(disk)]).toEqual([false, true, false]);
    const q = devicePolicy([
      { allow: true, type: 'c', major: 10, access: 'rw' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'rw' },
    ]);
    expect([q.allows(fuse), q.allows({ type: 'c', major: 10, minor: 200 })]).toEqual([false, true]);
  });
  it('an mknod-only rule does not open a device', () => {
    expect(devicePolicy([{ allow: true, type: 'c', major: 10, minor: 229, access: 'm' }]).allows(fuse)).toBe(false);
  });
  it('"allow all" (podman --privileged) allows every device, unless a deny follows', () => {
    expect(
      devicePolicy([
        { allow: false, access: 'rwm' },
        { allow: true, access: 'rwm' },
      ]).allowsAll,
    ).toBe(true);
    expect(devicePolicy([{ allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' }]).allowsAll).toBe(true);
    const p = devicePolicy([
      { allow: true, access: 'rwm' },
      { allow: false, type: 'b', major: 8, access: 'rwm' },
    ]);
    expect([p.allowsAll, p.allows(fuse), p.allows(disk)]).toEqual([false, true, false]);
  });
});
