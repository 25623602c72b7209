import { describe, expect, it } from 'vitest';
import {
  ATTR,
  MS,
  containerPath,
  devptsData,
  parseOptions,
  planMount,
  planMounts,
  planPathSteps,
  propagationFlags,
  type MountContext,
} from '../../src/container/mounts';
import { parseIdMap } from '../../src/container/idmap';
import type { OciConfig } from '../../src/spec/types';

const allNs: MountContext = { bundle: '/b', created: new Set(['user', 'mount', 'pid', 'network', 'ipc', 'uts']), gidMap: parseIdMap('0 1000 1') };
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
  it('ro bind: a bind, then the restrictions as mount attributes', () => {
    const s = planMount({ destination: '/data', type: 'bind', source: 'host', options: ['rbind', 'ro', 'nosuid'] }, 0, allNs);
    expect(s).toEqual({
      op: 'mount', source: '/b/host', dest: '/data', fstype: '', flags: MS.BIND | MS.REC, data: '',
      attrs: ATTR.RDONLY | ATTR.NOSUID, propagation: 0, kind: 'auto',
    });
  });
  it('tmpfs passes size and mode as data', () => {
    const s = planMount({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'mode=1777', 'size=65536k'] }, 0, allNs);
    expect(s).toMatchObject({ fstype: 'tmpfs', flags: MS.NOSUID, data: 'mode=1777,size=65536k', kind: 'dir' });
  });
  it('proc: fresh with a pid namespace, else an rbind of the host /proc', () => {
    expect(planMount({ destination: '/proc', type: 'proc', source: 'proc' }, 0, allNs)).toMatchObject({ fstype: 'proc', flags: 0 });
    expect(planMount({ destination: '/proc', type: 'proc', source: 'proc' }, 0, minimal)).toMatchObject({ source: '/proc', flags: MS.BIND | MS.REC });
  });
  it('sysfs: a fresh one falls back to the read-only rbind when the kernel says EPERM', () => {
    const s = planMount({ destination: '/sys', type: 'sysfs', source: 'sysfs' }, 0, allNs) as any;
    expect(s.fstype).toBe('sysfs');
    expect(s.fallback).toMatchObject({ source: '/sys', flags: MS.BIND | MS.REC });
    expect(s.fallback.attrs & 1).toBe(1); // MOUNT_ATTR_RDONLY
  });

  it('sysfs: fresh with a network namespace, else a read-only rbind of /sys', () => {
    expect(planMount({ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] }, 0, allNs)).toMatchObject({ fstype: 'sysfs', flags: MS.RDONLY });
    const s = planMount({ destination: '/sys', type: 'sysfs', source: 'sysfs' }, 0, minimal);
    expect(s).toMatchObject({ source: '/sys', flags: MS.BIND | MS.REC, attrs: ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC });
  });
  it('mqueue: fresh with an ipc namespace, else skipped', () => {
    expect(planMount({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' }, 0, allNs)).toMatchObject({ fstype: 'mqueue' });
    expect(planMount({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' }, 0, minimal)).toBeNull();
  });
  it('cgroup and cgroup2: read-only rbind of the host hierarchy', () => {
    for (const type of ['cgroup', 'cgroup2'])
      expect(planMount({ destination: '/sys/fs/cgroup', type, source: type }, 0, allNs)).toMatchObject({
        source: '/sys/fs/cgroup', flags: MS.BIND | MS.REC, attrs: ATTR.RDONLY | ATTR.NOSUID | ATTR.NODEV | ATTR.NOEXEC,
      });
  });
  it('devpts: new instance, gid= dropped when unmapped', () => {
    const s = planMount({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'mode=0620', 'gid=5'] }, 0, allNs);
    expect(s).toMatchObject({ fstype: 'devpts', data: 'mode=0620,newinstance,ptmxmode=0666' });
    expect(devptsData(['gid=5', 'newinstance', 'ptmxmode=0600'], parseIdMap('0 0 65536'), 'x')).toEqual(['gid=5', 'newinstance', 'ptmxmode=0600']);
  });
  it('refuses a mount with neither type nor bind', () => {
    expect(() => planMount({ destination: '/x', source: '/y' }, 3, allNs)).toThrow(/^mounts\[3\] \/x: a mount needs a type/);
  });
});

describe('planMounts', () => {
  const config = {
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts' },
    ],
    linux: { maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
  } as unknown as OciConfig;
  it('puts the devices right after the /dev mount', () => {
    const steps = planMounts(config, allNs);
    const dests = steps.map((s) => (s.op === 'mount' ? s.dest : s.op === 'symlink' ? `${s.path}->${s.target}` : s.op));
    expect(dests.slice(0, 3)).toEqual(['/proc', '/dev', '/dev/null']);
    expect(dests).toContain('/dev/ptmx->pts/ptmx');
    expect(dests).toContain('/dev/fd->/proc/self/fd');
    expect(dests[dests.length - 1]).toBe('/dev/pts');
  });
  it('binds the devices at the end without a /dev mount', () => {
    const steps = planMounts({ mounts: [] } as unknown as OciConfig, allNs);
    expect(steps[0]).toMatchObject({ op: 'mount', source: '/dev/null', dest: '/dev/null', kind: 'file', flags: MS.BIND });
  });
  it('masked then read-only paths', () => {
    expect(planPathSteps(config)).toEqual([{ op: 'mask', path: '/proc/kcore' }, { op: 'rdonly', path: '/proc/sys' }]);
  });
  it('rootfs propagation names', () => {
    expect(propagationFlags('slave')).toBe(MS.SLAVE);
    expect(() => propagationFlags('bogus')).toThrow(/linux\.rootfsPropagation/);
  });
});
