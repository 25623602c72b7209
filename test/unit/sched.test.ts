import { describe, expect, it } from 'vitest';
import {
  MAX_CPUS,
  parseIdList,
  planAffinity,
  planIoPriority,
  planMemoryPolicy,
  planScheduler,
  timeOffsetsText,
} from '../../src/container/sched';
import { planRecords } from '../../src/runner/protocol';
import { buildPlan } from '../../src/container/plan';
import { buildExecPlan } from '../../src/container/exec-plan';
import { parseIdMap } from '../../src/container/idmap';
import type { OciConfig } from '../../src/spec/types';

const err = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('parseIdList', () => {
  it('reads lists and ranges, sorted and distinct', () => {
    expect(parseIdList('0-1,3', 'f', MAX_CPUS)).toEqual([0, 1, 3]);
    expect(parseIdList(' 7, 2-4 ,3', 'f', MAX_CPUS)).toEqual([2, 3, 4, 7]);
    expect(parseIdList('5', 'f', MAX_CPUS)).toEqual([5]);
    expect(parseIdList('', 'f', MAX_CPUS)).toEqual([]);
    expect(parseIdList('  ', 'f', MAX_CPUS)).toEqual([]);
  });
  // One element per id of every range took 17 s for a 1.4 MB process.json.
  it('reads a huge list of overlapping ranges quickly', () => {
    const start = Date.now();
    expect(
      parseIdList(
        Array(100_000)
          .fill(`0-${MAX_CPUS - 1}`)
          .join(','),
        'f',
        MAX_CPUS,
      ),
    ).toHaveLength(MAX_CPUS);
    expect(Date.now() - start).toBeLessThan(2000);
  });
  it.each([
    ['1,', 'not a list'],
    ['a', 'not a list'],
    ['1--2', 'not a list'],
    ['-1', 'not a list'],
    ['3-1', 'goes backwards'],
    ['8192', 'out of range'],
    ['0-100000', 'out of range'],
  ])('refuses %j', (text, why) => {
    expect(err(() => parseIdList(text, 'process.execCPUAffinity.final', MAX_CPUS))).toMatch(
      new RegExp(`^process.execCPUAffinity.final: .*${why}`),
    );
  });
});

describe('planScheduler', () => {
  it('turns names into numbers', () => {
    expect(planScheduler({ policy: 'SCHED_BATCH', nice: 5 })).toMatchObject({
      policy: 3,
      nice: 5,
      priority: 0,
      flags: 0,
      text: 'SCHED_BATCH nice 5',
    });
    expect(planScheduler({ policy: 'SCHED_IDLE' })).toMatchObject({ policy: 5, nice: 0 });
    expect(
      planScheduler({ policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_KEEP_PARAMS'] }),
    ).toMatchObject({
      policy: 1,
      priority: 10,
      flags: 0x11,
    });
    expect(planScheduler({ policy: 'SCHED_DEADLINE', runtime: 10_000_000, deadline: 30_000_000, period: 30_000_000 })).toMatchObject({
      policy: 6,
      runtime: '10000000',
      deadline: '30000000',
      period: '30000000',
    });
    expect(planScheduler(undefined)).toBeUndefined();
  });
  it.each([
    [{ policy: 'SCHED_ISO' }, 'process.scheduler.policy: SCHED_ISO is not a Linux policy'],
    [{ policy: 'SCHED_TURBO' }, 'process.scheduler.policy: unknown policy SCHED_TURBO'],
    [{ policy: 'SCHED_OTHER', nice: 20 }, 'process.scheduler.nice: 20 is out of range (-20 to 19)'],
    [{ policy: 'SCHED_OTHER', nice: -21 }, 'process.scheduler.nice: -21 is out of range (-20 to 19)'],
    [{ policy: 'SCHED_FIFO' }, 'process.scheduler.priority: 0 is out of range (1 to 99 for SCHED_FIFO)'],
    [{ policy: 'SCHED_RR', priority: 100 }, 'process.scheduler.priority: 100 is out of range (1 to 99 for SCHED_RR)'],
    [{ policy: 'SCHED_BATCH', priority: 1 }, 'process.scheduler.priority: must be 0 for SCHED_BATCH'],
    [{ policy: 'SCHED_OTHER', flags: ['SCHED_FLAG_X'] }, 'process.scheduler.flags: unknown flag SCHED_FLAG_X'],
    [{ policy: 'SCHED_OTHER', runtime: 5 }, 'process.scheduler.runtime: only for SCHED_DEADLINE'],
    [{ policy: 'SCHED_DEADLINE', runtime: 100, deadline: 200 }, 'process.scheduler.runtime: must be at least 1024 (ns) for SCHED_DEADLINE'],
    [{ policy: 'SCHED_DEADLINE', runtime: 2000, deadline: 1500 }, 'process.scheduler.deadline: must not be below runtime'],
    [{ policy: 'SCHED_DEADLINE', runtime: 2000, deadline: 3000, period: 2500 }, 'process.scheduler.period: must not be below deadline'],
    [{ policy: 'SCHED_DEADLINE', runtime: -1 }, 'process.scheduler.runtime: -1 is not an unsigned 64-bit integer'],
  ])('refuses %j', (s, msg) => {
    expect(err(() => planScheduler(s as never))).toBe(msg);
  });
});

describe('planIoPriority', () => {
  it('packs class and level', () => {
    expect(planIoPriority({ class: 'IOPRIO_CLASS_BE', priority: 7 })).toEqual({ value: (2 << 13) | 7, text: 'IOPRIO_CLASS_BE 7' });
    expect(planIoPriority({ class: 'IOPRIO_CLASS_IDLE' })).toEqual({ value: 3 << 13, text: 'IOPRIO_CLASS_IDLE 0' });
    expect(planIoPriority({ class: 'IOPRIO_CLASS_RT', priority: 0 })?.value).toBe(1 << 13);
  });
  it('refuses unknown classes and levels out of range', () => {
    expect(err(() => planIoPriority({ class: 'IOPRIO_CLASS_NONE' }))).toBe('process.ioPriority.class: unknown class IOPRIO_CLASS_NONE');
    expect(err(() => planIoPriority({ class: 'IOPRIO_CLASS_BE', priority: 8 }))).toBe(
      'process.ioPriority.priority: 8 is out of range (0 to 7)',
    );
    expect(err(() => planIoPriority({ class: 'IOPRIO_CLASS_BE', priority: -1 }))).toBe(
      'process.ioPriority.priority: -1 is out of range (0 to 7)',
    );
  });
});

describe('planAffinity', () => {
  it('leaves empty lists alone (the spec: do not change the affinity)', () => {
    expect(planAffinity({ initial: '', final: '' })).toEqual({ initial: undefined, final: undefined });
    expect(planAffinity(undefined)).toEqual({ initial: undefined, final: undefined });
    expect(planAffinity({ initial: '0-1', final: '1' })).toEqual({ initial: [0, 1], final: [1] });
  });
  it('names the field of a bad list', () => {
    expect(err(() => planAffinity({ initial: 'x' }))).toMatch(/^process.execCPUAffinity.initial: /);
  });
});

describe('planMemoryPolicy', () => {
  it('ORs the flags into the mode', () => {
    expect(planMemoryPolicy({ mode: 'MPOL_BIND', nodes: '0' })).toEqual({ mode: 2, nodes: [0], text: 'MPOL_BIND nodes 0' });
    expect(planMemoryPolicy({ mode: 'MPOL_INTERLEAVE', nodes: '2-3', flags: ['MPOL_F_STATIC_NODES'] })).toEqual({
      mode: 3 | (1 << 15),
      nodes: [2, 3],
      text: 'MPOL_INTERLEAVE nodes 2-3 MPOL_F_STATIC_NODES',
    });
    expect(planMemoryPolicy({ mode: 'MPOL_LOCAL' })).toEqual({ mode: 4, nodes: [], text: 'MPOL_LOCAL' });
    expect(planMemoryPolicy({ mode: 'MPOL_PREFERRED' })?.nodes).toEqual([]);
    expect(planMemoryPolicy(undefined)).toBeUndefined();
  });
  it.each([
    [{ mode: 'MPOL_FANCY' }, 'linux.memoryPolicy.mode: unknown mode MPOL_FANCY'],
    [{}, 'linux.memoryPolicy.mode: is required (a string)'],
    [{ mode: 'MPOL_DEFAULT', nodes: '0' }, 'linux.memoryPolicy.nodes: must be empty for MPOL_DEFAULT'],
    [{ mode: 'MPOL_BIND' }, 'linux.memoryPolicy.nodes: MPOL_BIND needs at least one node'],
    [{ mode: 'MPOL_BIND', nodes: '1024' }, 'linux.memoryPolicy.nodes: 1024 is out of range (at most 1023)'],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_X'] }, 'linux.memoryPolicy.flags: unknown flag MPOL_F_X'],
    [
      { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] },
      'linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other',
    ],
    [{ mode: 'MPOL_LOCAL', flags: ['MPOL_F_STATIC_NODES'] }, 'linux.memoryPolicy.flags: none allowed for MPOL_LOCAL'],
    ['bind', 'linux.memoryPolicy: must be an object'],
  ])('refuses %j', (m, msg) => {
    expect(err(() => planMemoryPolicy(m as never))).toBe(msg);
  });
});

describe('timeOffsetsText', () => {
  it('writes one line per clock', () => {
    expect(timeOffsetsText({ boottime: { secs: 86400 }, monotonic: { secs: -5, nanosecs: 7 } })).toBe('monotonic -5 7\nboottime 86400 0\n');
    expect(timeOffsetsText({})).toBeUndefined();
    expect(timeOffsetsText(undefined)).toBeUndefined();
  });
  it('names the field of a bad value', () => {
    expect(err(() => timeOffsetsText({ boottime: { nanosecs: 1e9 } }))).toBe(
      'linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range (0 to 999999999)',
    );
    expect(err(() => timeOffsetsText({ boottime: { secs: 1.5 } }))).toBe('linux.timeOffsets.boottime.secs: 1.5 is not an integer');
    expect(err(() => timeOffsetsText({ realtime: { secs: 1 } } as never))).toBe(
      'linux.timeOffsets.realtime: unknown clock (monotonic or boottime)',
    );
  });
});

describe('the plan records', () => {
  const caller = { euid: 1000, egid: 1000, uidMap: parseIdMap('0 0 4294967295'), gidMap: parseIdMap('0 0 4294967295'), canSetIds: false };
  const config = {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: {
      args: ['true'],
      cwd: '/',
      scheduler: { policy: 'SCHED_BATCH', nice: 3 },
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 },
      execCPUAffinity: { initial: '0', final: '0-1' },
    },
    linux: {
      namespaces: [{ type: 'time' }, { type: 'pid' }],
      timeOffsets: { boottime: { secs: 3600 } },
      memoryPolicy: { mode: 'MPOL_BIND', nodes: '0' },
    },
  } as unknown as OciConfig;

  it('create: a new time namespace, its offsets after the maps, the scheduler, no affinity (not for the init process)', () => {
    const plan = buildPlan(config, { bundle: '/b', rootfs: '/b/rootfs', stateDir: '/s', caller, wait: false, preserveFds: 0 });
    const recs = planRecords(plan);
    const tags = recs.map((r) => r[0]);
    const unshare = recs.find((r) => r[0] === 'unshare')!;
    expect(Number(unshare[1]) & 0x80).toBe(0x80);
    expect(tags.indexOf('timens')).toBeGreaterThan(tags.indexOf('gidmap'));
    expect(recs.find((r) => r[0] === 'timens')).toEqual(['timens', 'boottime 3600 0\n']);
    expect(recs.find((r) => r[0] === 'sched')).toEqual(['sched', '3', '0', '3', '0', '0', '0', '0', 'SCHED_BATCH nice 3']);
    expect(recs.find((r) => r[0] === 'ioprio')).toEqual(['ioprio', String((2 << 13) | 6), 'IOPRIO_CLASS_BE 6']);
    expect(recs.find((r) => r[0] === 'mempolicy')).toEqual(['mempolicy', '2', 'MPOL_BIND nodes 0', '0']);
    expect(tags).not.toContain('cpus-initial');
    expect(tags).not.toContain('cpus-final');
  });

  it('create: a joined time namespace is joined, nothing unshared for it', () => {
    const joined = { ...config, linux: { namespaces: [{ type: 'time', path: '/proc/9/ns/time' }] } } as unknown as OciConfig;
    const recs = planRecords(buildPlan(joined, { bundle: '/b', rootfs: '/b/rootfs', stateDir: '/s', caller, wait: false, preserveFds: 0 }));
    expect(recs).toContainEqual(['join', String(0x80), '/proc/9/ns/time']);
    expect(Number(recs.find((r) => r[0] === 'unshare')![1]) & 0x80).toBe(0);
    expect(recs.map((r) => r[0])).not.toContain('timens');
  });

  it("exec: the initial CPUs before the cgroup join, the final after, the container's memory policy, the time namespace joined", () => {
    const view = {
      pid: 42,
      startTime: '1',
      namespaces: ['user', 'time', 'mount'] as never,
      uidMap: caller.uidMap,
      gidMap: caller.gidMap,
      setgroups: true,
    };
    const plan = buildExecPlan(config.process, view, {
      wait: true,
      preserveFds: 0,
      cgroupProcs: ['/sys/fs/cgroup/x/cgroup.procs'],
      memoryPolicy: config.linux!.memoryPolicy,
    });
    const recs = planRecords(plan);
    const tags = recs.map((r) => r[0]);
    expect(tags.indexOf('cpus-initial')).toBeLessThan(tags.indexOf('cgroup'));
    expect(tags.indexOf('cpus-final')).toBeGreaterThan(tags.indexOf('cgroup'));
    expect(recs.find((r) => r[0] === 'cpus-final')).toEqual(['cpus-final', '0', '1']);
    expect(recs.find((r) => r[0] === 'mempolicy')).toBeDefined();
    expect(recs.find((r) => r[0] === 'sched')).toBeDefined();
    expect(recs.filter((r) => r[0] === 'join').map((r) => r[2])).toEqual(['/proc/42/ns/user', '/proc/42/ns/time', '/proc/42/ns/mnt']);
  });
});
