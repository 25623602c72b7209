import { describe, expect, it } from 'vitest';
import {
  ATTR,
  containerPath,
  devptsData,
  parseOptions,
  planMount,
  planMounts,
  placePathSteps,
  propagationFlags,
  type MountContext,
} from '../../src/container/mounts';
import type { BindStep, FsStep, MountStep } from '../../src/runner/plan';
import { devicePolicy } from '../../src/container/devices';
import { MS } from '../../src/spec/mount-options';
import { parseIdMap } from '../../src/container/idmap';
import type { OciConfig } from '../../src/spec/types';

const noDevices = { at: () => undefined, all: () => [] };
const allNs: MountContext = {
  bundle: '/b',
  created: new Set(['user', 'mount', 'pid', 'network', 'ipc', 'uts']),
  gidMap: parseIdMap('0 1000 1'),
  devices: noDevices,
};
const minimal: MountContext = { ...allNs, created: new Set(['user', 'mount']) };

describe('option parsing', () => {
  it('turns flag words into MS_* flags, last word wins', () => {
    expect(parseOptions(['ro', 'nosuid', 'nodev', 'noexec']).flags).toBe(MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
    expect(parseOptions(['ro', 'rw']).flags).toBe(0);
    expect(parseOptions(['relatime', 'noatime', 'strictatime']).flags).toBe(MS.RELATIME | MS.NOATIME | MS.STRICTATIME);
  });
  it('separates propagation, bind and filesystem data', () => {
    const o = parseOptions(['rbind', 'rslave', 'mode=755', 'size=65536k']);
    expect(o).toMatchObject({ bind: true, recursive: true, propagation: MS.SLAVE | MS.REC, data: ['mode=755', 'size=65536k'] });
    expect(parseOptions(['bind', 'private'])).toMatchObject({ recursive: false, propagation: MS.PRIVATE });
  });
  it('normalises destinations', () => {
    expect(containerPath('dev/')).toBe('/dev');
    expect(containerPath('/a/../b//c')).toBe('/b/c');
  });
});

describe('planMount', () => {
  it('ro bind: a clone with the restrictions (and nodev) set before it is attached', () => {
    const s = planMount({ destination: '/data', type: 'bind', source: 'host', options: ['rbind', 'ro', 'nosuid'] }, 0, allNs);
    expect(s).toEqual({
      op: 'bind',
      source: '/b/host',
      dest: '/data',
      recursive: true,
      attrs: ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV,
      propagation: 0,
      kind: 'auto',
      nofollow: false,
    });
  });
  it('a bind is nodev unless it binds one device node or every device is allowed', () => {
    const fuse = { path: '/dev/fuse', type: 'c' as const, major: 10, minor: 229 };
    const devices = { at: (p: string) => (p === '/dev/fuse' ? fuse : undefined), all: () => [fuse] };
    const m = (rules: unknown, source: string) =>
      planMount({ destination: '/x', type: 'bind', source, options: ['bind'] }, 0, {
        ...allNs,
        devices,
        devicePolicy: devicePolicy(rules as never),
      }) as BindStep;
    expect(m(undefined, '/dev').attrs).toBe(ATTR.NODEV);
    expect(m([{ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }], '/dev').attrs).toBe(ATTR.NODEV);
    expect(m([{ allow: true, access: 'rwm' }], '/dev').attrs).toBe(0);
    // rootless podman --device: a bind of the node itself.
    expect(m(undefined, '/dev/fuse')).toMatchObject({ attrs: 0, device: { type: 'c', major: 10, minor: 229 } });
  });
  it('tmpfs passes size and mode as fsconfig parameters', () => {
    const s = planMount(
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'mode=1777', 'size=65536k', 'sync'] },
      0,
      allNs,
    );
    expect(s).toMatchObject({
      op: 'fs',
      fstype: 'tmpfs',
      attrs: ATTR.NOSUID | ATTR.NODEV,
      options: ['sync', 'mode=1777', 'size=65536k'],
      nofollow: false,
    });
  });
  it('atime modes become mount attributes', () => {
    expect(planMount({ destination: '/t', type: 'tmpfs', source: 't', options: ['noatime'] }, 0, allNs)).toMatchObject({
      attrs: ATTR.NOATIME | ATTR.NODEV,
    });
    expect(planMount({ destination: '/t', type: 'tmpfs', source: 't', options: ['strictatime'] }, 0, allNs)).toMatchObject({
      attrs: ATTR.STRICTATIME | ATTR.NODEV,
    });
  });
  it('proc: fresh with a pid namespace, else an rbind of the host /proc; both only on a real directory', () => {
    expect(planMount({ destination: '/proc', type: 'proc', source: 'proc' }, 0, allNs)).toMatchObject({
      op: 'fs',
      fstype: 'proc',
      nofollow: true,
    });
    expect(planMount({ destination: '/proc', type: 'proc', source: 'proc' }, 0, minimal)).toMatchObject({
      op: 'bind',
      source: '/proc',
      recursive: true,
      nofollow: true,
    });
    // Where the fresh one is refused (an enclosing container's masks): the caller's /proc, unless ch-run-oci.proc=fresh.
    expect(planMount({ destination: '/proc', type: 'proc', source: 'proc' }, 0, allNs)).toMatchObject({
      fallback: { op: 'bind', source: '/proc', recursive: true },
    });
    expect(
      (planMount({ destination: '/proc', type: 'proc', source: 'proc' }, 0, { ...allNs, procFallback: false }) as FsStep).fallback,
    ).toBeUndefined();
  });
  it('sysfs: a fresh one falls back to the read-only rbind when the kernel says EPERM', () => {
    const s = planMount({ destination: '/sys', type: 'sysfs', source: 'sysfs' }, 0, allNs) as FsStep;
    expect(s.fstype).toBe('sysfs');
    expect(s.fallback).toMatchObject({ source: '/sys', recursive: true, nofollow: true });
    expect(s.fallback!.attrs & ATTR.RDONLY).toBe(ATTR.RDONLY);
  });
  it('sysfs: fresh with a network namespace, else a read-only rbind of /sys', () => {
    expect(planMount({ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] }, 0, allNs)).toMatchObject({
      fstype: 'sysfs',
      attrs: ATTR.RDONLY | ATTR.NODEV,
    });
    const s = planMount({ destination: '/sys', type: 'sysfs', source: 'sysfs' }, 0, minimal);
    expect(s).toMatchObject({ op: 'bind', source: '/sys', recursive: true, attrs: ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC });
  });
  it('mqueue: fresh with an ipc namespace, else skipped', () => {
    expect(planMount({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' }, 0, allNs)).toMatchObject({
      fstype: 'mqueue',
      nofollow: true,
    });
    expect(planMount({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' }, 0, minimal)).toBeNull();
  });
  it('cgroup and cgroup2 without a cgroup view: read-only rbind of the host hierarchy (see test/unit/cgroups-view.test.ts)', () => {
    for (const type of ['cgroup', 'cgroup2'])
      expect(planMount({ destination: '/sys/fs/cgroup', type, source: type }, 0, allNs)).toMatchObject([
        { source: '/sys/fs/cgroup', recursive: true, attrs: ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC, nofollow: true },
      ]);
  });
  it('devpts: new instance, gid= dropped when unmapped, and not nodev (it holds the ptys)', () => {
    const s = planMount({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'mode=0620', 'gid=5'] }, 0, allNs);
    expect(s).toMatchObject({
      fstype: 'devpts',
      options: ['mode=0620', 'newinstance', 'ptmxmode=0666'],
      attrs: ATTR.NOSUID,
      nofollow: true,
    });
    expect(devptsData(['gid=5', 'newinstance', 'ptmxmode=0600'], parseIdMap('0 0 65536'), 'x')).toEqual([
      'gid=5',
      'newinstance',
      'ptmxmode=0600',
    ]);
  });
  it('refuses a mount with neither type nor bind', () => {
    expect(() => planMount({ destination: '/x', source: '/y' }, 3, allNs)).toThrow(/^mounts\[3\] \/x: a mount needs a type/);
  });
});

describe('planMounts', () => {
  const dev = (p: string, minor: number) => ({ path: p, type: 'c' as const, major: 1, minor });
  const nodes = ['null', 'zero', 'full', 'tty', 'random', 'urandom'].map((n, i) => dev(`/dev/${n}`, i));
  const ctx: MountContext = { ...allNs, devices: { at: (p) => nodes.find((n) => n.path === p), all: () => nodes } };
  const config = {
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts' },
    ],
    linux: { maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
  } as unknown as OciConfig;
  const label = (s: MountStep) => (s.op === 'bind' || s.op === 'fs' ? s.dest : s.op === 'symlink' ? `${s.path}->${s.target}` : s.op);
  it('puts the devices right after the /dev mount', () => {
    const dests = planMounts(config, ctx).map(label);
    expect(dests.slice(0, 3)).toEqual(['/proc', '/dev', '/dev/null']);
    expect(dests).toContain('/dev/ptmx->pts/ptmx');
    expect(dests).toContain('/dev/fd->/proc/self/fd');
    expect(dests[dests.length - 1]).toBe('/dev/pts');
  });
  it('binds the devices at the end without a /dev mount, each checked to be that device', () => {
    const steps = planMounts({ mounts: [] } as unknown as OciConfig, ctx);
    expect(steps[0]).toMatchObject({
      op: 'bind',
      source: '/dev/null',
      dest: '/dev/null',
      kind: 'file',
      recursive: false,
      device: { type: 'c', major: 1, minor: 0 },
    });
  });
  it('masks and read-only paths on a kernel file system go right after its mount, relative to it', () => {
    const { steps, rootLevel } = placePathSteps(planMounts(config, ctx), config);
    const i = steps.findIndex((s) => s.op === 'fs' && s.fstype === 'proc');
    expect(steps.slice(i + 1, i + 3)).toEqual([
      { op: 'mask', path: '/proc/kcore', rel: 'kcore' },
      { op: 'rdonly', path: '/proc/sys', rel: 'sys' },
    ]);
    expect(rootLevel).toEqual([]);
  });
  it('other paths are resolved in the rootfs after every mount; the topmost mount decides', () => {
    const c = {
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/proc/x', type: 'tmpfs', source: 't' },
      ],
      linux: { maskedPaths: ['/etc/secret', '/proc/x/y', '/proc'], readonlyPaths: ['/proc/x'] },
    } as unknown as OciConfig;
    const { steps, rootLevel } = placePathSteps(planMounts(c, ctx), c);
    expect(steps.filter((s) => s.op === 'mask' || s.op === 'rdonly')).toEqual([{ op: 'mask', path: '/proc', rel: '' }]);
    expect(rootLevel).toEqual([
      { op: 'mask', path: '/etc/secret' },
      { op: 'mask', path: '/proc/x/y' },
      { op: 'rdonly', path: '/proc/x' },
    ]);
  });
  it('rootfs propagation names', () => {
    expect(propagationFlags('slave')).toBe(MS.SLAVE);
    expect(() => propagationFlags('bogus')).toThrow(/linux\.rootfsPropagation/);
  });
});
