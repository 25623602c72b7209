// The pure side of hooks (src/container/hooks.ts): which kind runs where with
// which state, env and argv building, failure wording, start's bound, and the
// plan records the runner gets.
import { describe, expect, it } from 'vitest';
import {
  HOOK_POINTS,
  hookArgv,
  hookEnv,
  hookFailure,
  hookLabel,
  hookState,
  needsHookPause,
  planHooks,
  startWaitMs,
} from '../../src/container/hooks';
import { planRecords } from '../../src/runner/protocol';
import { buildPlan } from '../../src/container/plan';
import { parseIdMap } from '../../src/container/idmap';
import { HOOK_NAMES, type OciConfig } from '../../src/spec/types';
import type { ContainerRecord } from '../../src/state/record';

const record: ContainerRecord = {
  ociVersion: '1.2.0',
  id: 'c1',
  pid: 4242,
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-12-02T00:00:00Z',
  owner: 'root',
  annotations: { a: 'b' },
};

describe('hook points', () => {
  it('cover the runtime-spec kinds in lifecycle order', () => {
    expect(HOOK_POINTS.map((p) => p.kind)).toEqual([...HOOK_NAMES]);
  });

  it('give each kind its status, its runner and whether a failure is fatal', () => {
    expect(HOOK_POINTS.map((p) => [p.kind, p.status, p.by, p.fatal])).toEqual([
      ['prestart', 'creating', 'node', true],
      ['createRuntime', 'creating', 'node', true],
      ['createContainer', 'creating', 'runner', true],
      ['startContainer', 'created', 'runner', true],
      ['poststart', 'running', 'node', false],
      ['poststop', 'stopped', 'node', false],
    ]);
  });
});

describe('hookState', () => {
  it.each([
    ['prestart', 'creating', 4242],
    ['createRuntime', 'creating', 4242],
    ['createContainer', 'creating', 4242],
    ['startContainer', 'created', 4242],
    ['poststart', 'running', 4242],
    ['poststop', 'stopped', 0],
  ] as const)('%s: status %s, pid %d', (kind, status, pid) => {
    const s = hookState(record, kind);
    expect(s).toMatchObject({ ociVersion: '1.2.0', id: 'c1', status, pid, bundle: '/b', annotations: { a: 'b' } });
  });

  it('takes the pid of the hook pause before the record has one', () => {
    const { pid: _, ...creating } = record;
    expect(hookState(creating, 'prestart', 77).pid).toBe(77);
    expect(hookState(creating, 'startContainer', 77).pid).toBe(77);
  });
});

describe('hookEnv and hookArgv', () => {
  it('env is exactly the list: nothing else, the last of a name wins, entries without "=" dropped', () => {
    expect(hookEnv({ path: '/h' })).toEqual({});
    expect(hookEnv({ path: '/h', env: ['A=1', 'B=x=y', 'A=2', 'NOEQ', 'E='] })).toEqual({ A: '2', B: 'x=y', E: '' });
  });

  it('args[0] is argv[0]; without args argv is the path', () => {
    expect(hookArgv({ path: '/h' })).toEqual({ argv0: '/h', args: [] });
    expect(hookArgv({ path: '/h', args: ['name', 'a', 'b'] })).toEqual({ argv0: 'name', args: ['a', 'b'] });
  });
});

describe('hookFailure', () => {
  const hook = { path: '/usr/bin/h', timeout: 2 };
  const label = hookLabel('prestart', 0);
  it.each([
    [{ code: 0 }, undefined],
    [{ code: 3 }, 'hooks.prestart[0]: /usr/bin/h exited with status 3'],
    [{ signal: 'SIGKILL' }, 'hooks.prestart[0]: /usr/bin/h killed by SIGKILL'],
    [{ timedOut: true as const }, 'hooks.prestart[0]: /usr/bin/h timed out after 2 s'],
    [{ spawnError: 'no such file or directory' }, 'hooks.prestart[0]: /usr/bin/h: no such file or directory'],
  ])('%o', (outcome, text) => {
    expect(hookFailure(label, hook, outcome)).toBe(text);
  });
});

describe('needsHookPause and startWaitMs', () => {
  it('pauses for any create- or start-time hook, not for poststart/poststop alone', () => {
    expect(needsHookPause(undefined)).toBe(false);
    expect(needsHookPause({ poststart: [{ path: '/h' }], poststop: [{ path: '/h' }], prestart: [] })).toBe(false);
    for (const k of ['prestart', 'createRuntime', 'createContainer', 'startContainer'] as const) {
      expect(needsHookPause({ [k]: [{ path: '/h' }] })).toBe(true);
    }
  });

  it("start's bound grows by every startContainer timeout; a hook without one has none", () => {
    expect(startWaitMs(undefined, 10_000)).toBe(10_000);
    expect(
      startWaitMs(
        {
          startContainer: [
            { path: '/a', timeout: 2 },
            { path: '/b', timeout: 3 },
          ],
        },
        10_000,
      ),
    ).toBe(15_000);
    expect(startWaitMs({ startContainer: [{ path: '/a', timeout: 2 }, { path: '/b' }] }, 10_000)).toBe(Infinity);
  });
});

describe('the plan', () => {
  const hooks = {
    prestart: [{ path: '/p' }],
    createContainer: [{ path: '/cc', args: ['cc', 'x'], env: ['A=1'], timeout: 4 }],
    startContainer: [{ path: '/sc' }, { path: '/sc2', env: ['NOEQ'] }],
    poststop: [{ path: '/ps' }],
  };

  it('has the container-side hooks only, labelled, with their cwd', () => {
    expect(planHooks(hooks, '/bundle')).toEqual({
      cwd: '/bundle',
      steps: [
        { kind: 'createContainer', label: 'hooks.createContainer[0]', path: '/cc', args: ['cc', 'x'], env: ['A=1'], timeout: 4 },
        { kind: 'startContainer', label: 'hooks.startContainer[0]', path: '/sc', args: [], env: [], timeout: 0 },
        { kind: 'startContainer', label: 'hooks.startContainer[1]', path: '/sc2', args: [], env: ['NOEQ'], timeout: 0 },
      ],
    });
    expect(planHooks({ poststop: [{ path: '/ps' }] }, '/bundle')).toBeUndefined();
  });

  it('becomes records after the mounts, before the process', () => {
    const config = {
      ociVersion: '1.0.2',
      root: { path: 'rootfs' },
      process: { args: ['sh'], cwd: '/' },
      linux: { namespaces: [{ type: 'pid' }] },
      hooks,
    } as unknown as OciConfig;
    const caller = { euid: 1000, egid: 1000, uidMap: parseIdMap('0 0 4294967295'), gidMap: parseIdMap('0 0 4294967295'), canSetIds: false };
    const records = planRecords(
      buildPlan(config, { bundle: '/b', rootfs: '/b/rootfs', stateDir: '/s', caller, wait: false, preserveFds: 0 }),
    );
    const tags = records.map((r) => r[0]);
    const pause = tags.indexOf('hook-pause');
    expect(pause).toBeGreaterThan(tags.indexOf('rootfs'));
    expect(pause).toBeLessThan(tags.indexOf('args'));
    expect(records.filter((r) => r[0].startsWith('hook'))).toEqual([
      ['hook-pause', '/b'],
      ['hook', 'createContainer', 'hooks.createContainer[0]', '4', '/cc', '2', 'cc', 'x', 'A=1'],
      ['hook', 'startContainer', 'hooks.startContainer[0]', '0', '/sc', '0'],
      ['hook', 'startContainer', 'hooks.startContainer[1]', '0', '/sc2', '0', 'NOEQ'],
    ]);
  });
});
