import { describe, expect, it } from 'vitest';
import { DEFAULT_PATH, capSets, planProcess, rlimitNumber, rlimitValue, searchPath } from '../../src/container/process';
import { buildPlan, planNamespaces } from '../../src/container/plan';
import { CLONE } from '../../src/runner/plan';
import { applyPolicy } from '../../src/spec/policy';
import { parseIdMap } from '../../src/container/idmap';
import type { OciConfig } from '../../src/spec/types';

function cfg(process: object, linux: object = {}, extra: object = {}): OciConfig {
  return { ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/', ...process }, linux, ...extra } as OciConfig;
}

describe('process settings', () => {
  it('maps rlimit names to numbers and huge values to unlimited', () => {
    expect(rlimitNumber('RLIMIT_NOFILE')).toBe(7);
    expect(rlimitNumber('RLIMIT_NPROC')).toBe(6);
    expect(() => rlimitNumber('RLIMIT_BOGUS')).toThrow(/^process\.rlimits: unknown rlimit type RLIMIT_BOGUS/);
    // JSON numbers from 2^64-1 on arrive as 2^64 (what JSON.parse makes of them).
    expect(rlimitValue(2 ** 64)).toBe('unlimited');
    expect(rlimitValue(1024)).toBe('1024');
  });
  it('refuses a soft limit above the hard one', () => {
    expect(() => planProcess(cfg({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }] }).process)).toThrow(/soft limit above hard/);
  });
  it('maps capability names to bits, refuses unknown names', () => {
    const c = capSets({
      bounding: ['CAP_CHOWN', 'CAP_KILL'],
      permitted: ['CAP_KILL'],
      effective: ['CAP_KILL'],
      inheritable: ['CAP_KILL'],
      ambient: ['CAP_KILL'],
    });
    expect(c.bounding).toBe((1n << 0n) | (1n << 5n));
    expect(c.ambient).toBe(1n << 5n);
    expect(capSets({ bounding: ['CAP_CHECKPOINT_RESTORE'] }).bounding).toBe(1n << 40n);
    expect(() => capSets({ effective: ['CAP_FLY'] })).toThrow(/^process\.capabilities\.effective: unknown capability CAP_FLY/);
  });
  it('drops ambient capabilities that are not permitted and inheritable', () => {
    expect(capSets({ ambient: ['CAP_KILL'], permitted: ['CAP_KILL'] }).ambient).toBe(0n);
  });
  it('looks executables up in the env PATH, default when absent', () => {
    expect(searchPath(['A=1', 'PATH=/x:/y'])).toBe('/x:/y');
    expect(searchPath([])).toBe(DEFAULT_PATH);
  });
  it('defaults umask to 0022 and normalises cwd', () => {
    const p = planProcess(cfg({ cwd: 'work/' }).process);
    expect(p).toMatchObject({ umask: 0o022, cwd: '/work', env: [] });
  });
  it('needs args', () => {
    expect(() => planProcess(cfg({ args: [] }).process)).toThrow(/^process\.args/);
  });
});

describe('namespaces', () => {
  it('creates unpathed namespaces, joins pathed ones, always user+mount', () => {
    const n = planNamespaces(cfg({}, { namespaces: [{ type: 'pid' }, { type: 'network', path: '/run/netns/x' }, { type: 'uts' }] }));
    expect(n.created).toEqual(['user', 'mount', 'pid', 'uts']);
    expect(n.joins).toEqual([{ type: 'network', flag: CLONE.network, path: '/run/netns/x' }]);
  });
  it('joining user or mount namespaces is refused by the policy table before planning', () => {
    const refuse = (ns: object[]) => () => applyPolicy(cfg({}, { namespaces: ns }), {});
    expect(refuse([{ type: 'user', path: '/proc/1/ns/user' }])).toThrow(
      /^config\.json: \/linux\/namespaces\/0\/path: joining an existing user namespace/,
    );
    expect(refuse([{ type: 'mount', path: '/x' }])).toThrow(/\/linux\/namespaces\/0\/path: joining an existing mount namespace/);
  });
  it('creates a time namespace (CLONE_NEWTIME) or joins one by path', () => {
    expect(planNamespaces(cfg({}, { namespaces: [{ type: 'time' }] })).created).toEqual(['user', 'mount', 'time']);
    expect(CLONE.time).toBe(0x80);
    expect(planNamespaces(cfg({}, { namespaces: [{ type: 'time', path: '/proc/9/ns/time' }] })).joins).toEqual([
      { type: 'time', flag: 0x80, path: '/proc/9/ns/time' },
    ]);
  });
});

describe('buildPlan', () => {
  const caller = { euid: 1000, egid: 1000, uidMap: parseIdMap('0 0 4294967295'), gidMap: parseIdMap('0 0 4294967295'), canSetIds: false };
  const ctx = { bundle: '/b', rootfs: '/b/rootfs', stateDir: '/run/x/c1', caller, wait: false, preserveFds: 0 };
  it('skips hostname without a uts namespace', () => {
    expect(buildPlan(cfg({}, {}, { hostname: 'h' }), ctx).hostname).toBeUndefined();
    expect(buildPlan(cfg({}, { namespaces: [{ type: 'uts' }] }, { hostname: 'h' }), ctx).hostname).toBe('h');
  });
  it('creates cwd before masking, and orders root flags', () => {
    const p = buildPlan(
      cfg({ cwd: '/w' }, { maskedPaths: ['/proc/kcore'], rootfsPropagation: 'slave' }, { root: { path: 'rootfs', readonly: true } }),
      ctx,
    );
    const ops = p.mounts.map((m) => m.op);
    expect(ops.slice(-2)).toEqual(['mkdir', 'mask']);
    expect(p.rootReadonly).toBe(true);
    expect(p.rootPropagation).toBe((1 << 19) | 16384);
  });
});
