import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePlan, encodeRecords, planRecords, type PlanRecord } from '../../src/runner/protocol';
import { parseReport } from '../../src/runner/launch';
import { buildPlan } from '../../src/container/plan';
import { parseIdMap } from '../../src/container/idmap';
import type { OciConfig } from '../../src/spec/types';
import { REPO, compileC } from '../helpers/repo';

const config = {
  ociVersion: '1.0.2',
  root: { path: 'rootfs', readonly: true },
  hostname: 'box',
  process: {
    args: ['sh', '-c', 'echo "a\nb"', ''],
    env: ['PATH=/bin', 'EMPTY='],
    cwd: '/',
    user: { uid: 0, gid: 0 },
    capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
    noNewPrivileges: true,
  },
  mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
  linux: { namespaces: [{ type: 'pid' }, { type: 'uts' }, { type: 'network', path: '/run/netns/n' }] },
} as unknown as OciConfig;
const caller = { euid: 1000, egid: 1001, uidMap: parseIdMap('0 0 4294967295'), gidMap: parseIdMap('0 0 4294967295'), canSetIds: false };
const plan = buildPlan(config, { bundle: '/b', rootfs: '/b/rootfs', stateDir: '/s', caller, wait: false, preserveFds: 0 });

// The C side of the wire: test/helpers/plan-dump.c, built on the runner's plan.c.
let dumpDir: string;
let dump: string;
beforeAll(() => {
  dumpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-dump-'));
  dump = path.join(dumpDir, 'plan-dump');
  compileC(dump, [path.join(REPO, 'test/helpers/plan-dump.c'), path.join(REPO, 'src/runner/plan.c')]);
});
afterAll(() => fs.rmSync(dumpDir, { recursive: true, force: true }));

function readByRunner(wire: Buffer): PlanRecord[] {
  const r = spawnSync(dump, { input: wire, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the runner's parser refused the plan: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PlanRecord);
}

describe('encodePlan', () => {
  it('is NUL-separated records: tag, count, args', () => {
    expect(encodeRecords([['v', '1'], ['wait'], ['env', '', 'A=b']]).toString()).toBe(
      'v\x001\x001\x00wait\x000\x00env\x002\x00\x00A=b\x00',
    );
  });
  it("the runner's own parser reads back exactly these records, empty arguments and newlines kept", () => {
    const recs = planRecords(plan);
    expect(readByRunner(encodePlan(plan))).toEqual(recs);
    expect(recs.find((r) => r[0] === 'args')).toEqual(['args', 'sh', '-c', 'echo "a\nb"', '']);
  });
  it("the runner's parser reads the scheduling, memory policy and time offset records as written", () => {
    const sched = {
      ...config,
      process: { ...config.process, scheduler: { policy: 'SCHED_BATCH', nice: 2 }, ioPriority: { class: 'IOPRIO_CLASS_IDLE' } },
      linux: {
        namespaces: [{ type: 'time' }],
        timeOffsets: { monotonic: { secs: -3 }, boottime: { secs: 9, nanosecs: 1 } },
        memoryPolicy: { mode: 'MPOL_INTERLEAVE', nodes: '0-2' },
      },
    } as unknown as OciConfig;
    const p = buildPlan(sched, { bundle: '/b', rootfs: '/b/rootfs', stateDir: '/s', caller, wait: false, preserveFds: 0 });
    const recs = planRecords(p);
    expect(readByRunner(encodePlan(p))).toEqual(recs);
    expect(recs).toContainEqual(['timens', 'monotonic -3 0\nboottime 9 1\n']);
    expect(recs).toContainEqual(['mempolicy', '3', 'MPOL_INTERLEAVE nodes 0-2', '0', '1', '2']);
  });
  it('the runner refuses a plan of another protocol version or a cut one', () => {
    expect(() => readByRunner(encodeRecords([['v', '1'], ['wait']]))).toThrow(/refused/);
    expect(() => readByRunner(encodePlan(plan).subarray(0, 40))).toThrow(/refused/);
  });
  it('carries the decisions in execution order', () => {
    const tags = planRecords(plan).map((r) => r[0]);
    expect(tags[0]).toBe('v');
    expect(tags.indexOf('join')).toBeLessThan(tags.indexOf('unshare'));
    expect(tags.indexOf('setgroups')).toBeLessThan(tags.indexOf('uidmap'));
    expect(tags.indexOf('rootfs')).toBeLessThan(tags.indexOf('fs'));
    expect(tags.indexOf('rootfs')).toBeLessThan(tags.indexOf('bind'));
    expect(tags.indexOf('rootro')).toBeGreaterThan(tags.lastIndexOf('symlink'));
    const recs = planRecords(plan);
    expect(recs.find((r) => r[0] === 'unshare')).toEqual(['unshare', String(0x10000000 | 0x20000 | 0x20000000 | 0x04000000)]);
    expect(recs.find((r) => r[0] === 'uidmap')).toEqual(['uidmap', '0 1000 1\n']);
    expect(recs.find((r) => r[0] === 'gidmap')).toEqual(['gidmap', '0 1001 1\n']);
    expect(recs.find((r) => r[0] === 'setgroups')).toEqual(['setgroups', 'deny']);
    expect(recs.find((r) => r[0] === 'caps')).toEqual(['caps', '32', '32', '32', '0', '0']);
    expect(recs.find((r) => r[0] === 'rlimit')).toEqual(['rlimit', 'RLIMIT_NOFILE', '7', '1024', '1024']);
    expect(recs.find((r) => r[0] === 'hostname')).toEqual(['hostname', 'box']);
    expect(tags).toContain('nonewprivs');
    expect(tags).not.toContain('groups');
  });
  it('adds wait and preserved fds only when asked', () => {
    const tags = planRecords({ ...plan, wait: true, preserveFds: 2 });
    expect(tags).toContainEqual(['wait']);
    expect(tags).toContainEqual(['preserve', '2']);
    expect(planRecords(plan).map((r) => r[0])).not.toContain('wait');
  });
  it('refuses NUL bytes in values', () => {
    expect(() => encodePlan({ ...plan, process: { ...plan.process, env: ['A=\0'] } })).toThrow(/env: a value contains a NUL byte/);
  });
});

describe('runner report', () => {
  it('parses ok and error lines', () => {
    expect(parseReport('ok 1234')).toEqual({ pid: 1234 });
    expect(parseReport('error mount: /x on /y (bind): no such file or directory')).toEqual({
      error: 'mount: /x on /y (bind): no such file or directory',
    });
    expect(parseReport('garbage')).toHaveProperty('error');
  });
});

describe('exec plan', () => {
  it('joins user first and mount last, then the process; no fifo, maps or mounts', async () => {
    const { buildExecPlan } = await import('../../src/container/exec-plan');
    const view = {
      pid: 42,
      startTime: '1234',
      namespaces: ['mount', 'pid', 'user', 'uts'] as ('mount' | 'pid' | 'user' | 'uts')[],
      uidMap: parseIdMap('0 1000 1'),
      gidMap: parseIdMap('0 1000 1'),
      setgroups: false,
    };
    const p = buildExecPlan({ args: ['ls'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [7] } }, view, {
      wait: false,
      preserveFds: 0,
    });
    const recs = planRecords(p);
    expect(recs.filter((r) => r[0] === 'join').map((r) => r[2])).toEqual([
      '/proc/42/ns/user',
      '/proc/42/ns/uts',
      '/proc/42/ns/pid',
      '/proc/42/ns/mnt',
    ]);
    const tags = recs.map((r) => r[0]);
    for (const t of ['fifo', 'unshare', 'uidmap', 'rootfs', 'bind', 'fs', 'groups']) expect(tags).not.toContain(t);
    expect(() => buildExecPlan({ args: ['ls'], cwd: '/', user: { uid: 5, gid: 0 } }, view, { wait: false, preserveFds: 0 })).toThrow(
      /^process\.user\.uid: 5 is not mapped in the container/,
    );
  });
});
