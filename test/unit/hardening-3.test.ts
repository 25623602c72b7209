// The pure decisions of the third security round (test/hardening/escapes-3.test.ts
// drives the binary): which fds --preserve-fds may pass, which cgroup records
// are trusted, which exec targets are containers, which binds are locked.
import { describe, expect, it } from 'vitest';
import { callerFdCount, preserveProblem } from '../../src/fds';
import { recordProblem } from '../../src/cgroups/trust';
import { defaultName } from '../../src/cgroups/paths';
import type { Host } from '../../src/cgroups/host';
import type { CgroupRecord } from '../../src/cgroups/manager';
import { checkIsContainer } from '../../src/container/exec-plan';
import { cgroupMountSteps } from '../../src/cgroups/view';

const fds = (entries: [number, string][]): Map<number, string> => new Map(entries);
const EPOLL = 'anon_inode:[eventpoll]';

describe('--preserve-fds', () => {
  it("counts the fds below Node's first epoll fd as the caller's", () => {
    expect(callerFdCount(fds([[3, EPOLL]]))).toBe(0);
    expect(
      callerFdCount(
        fds([
          [3, '/etc/passwd'],
          [4, 'pipe:[1]'],
          [5, EPOLL],
          [6, 'anon_inode:[io_uring]'],
        ]),
      ),
    ).toBe(2);
  });
  it("refuses ch-run-oci's own fds and missing ones", () => {
    const two = fds([
      [3, '/etc/passwd'],
      [4, EPOLL],
      [5, 'pipe:[2]'],
    ]);
    expect(preserveProblem(1, two)).toBeUndefined();
    expect(preserveProblem(2, two)).toBe("fd 4 is ch-run-oci's own, not one the caller passed (only fds 3-3 are)");
    expect(preserveProblem(1, fds([[3, EPOLL]]))).toBe("fd 3 is ch-run-oci's own, not one the caller passed (the caller passed none)");
    expect(preserveProblem(2, fds([[3, 'x']]))).toBe('fd 4 is not open (only fds 3-3 are)');
  });
});

const ID = 'c1';
const ROOT = '/run/s';
const NAME = defaultName(ID, ROOT);
const HOST: Host = {
  mode: 'v1',
  base: '/sys/fs/cgroup',
  hierarchies: [
    { key: 'memory', controllers: ['memory'], mountpoint: '/sys/fs/cgroup/memory', mountRoot: '/', own: '/user/me' },
    { key: 'cpu,cpuacct', controllers: ['cpu', 'cpuacct'], mountpoint: '/sys/fs/cgroup/cpu,cpuacct', mountRoot: '/', own: '/' },
  ],
};
const good = (): CgroupRecord => ({
  mode: 'v1',
  dirs: [
    { key: 'memory', controllers: ['memory'], dir: `/sys/fs/cgroup/memory/user/me/${NAME}` },
    { key: 'cpu,cpuacct', controllers: ['cpu', 'cpuacct'], dir: `/sys/fs/cgroup/cpu,cpuacct/${NAME}` },
  ],
  freezer: undefined,
});
const withDir = (dir: string, i = 0): CgroupRecord => {
  const r = good();
  r.dirs[i].dir = dir;
  return r;
};

describe('cgroup records', () => {
  it('trusts what create records', () => {
    expect(recordProblem(HOST, good(), ID, ROOT)).toBeUndefined();
    expect(recordProblem(HOST, withDir('/sys/fs/cgroup/memory/pods/x'), ID, ROOT)).toBeUndefined();
  });
  it('refuses hierarchy roots, the caller and its parents, other places and unclean paths', () => {
    expect(recordProblem(HOST, withDir('/sys/fs/cgroup/memory'), ID, ROOT)).toMatch(/not strictly below \/sys\/fs\/cgroup\/memory/);
    expect(recordProblem(HOST, withDir('/sys/fs/cgroup/memory/user/me'), ID, ROOT)).toMatch(/caller's own cgroup or one of its parents/);
    expect(recordProblem(HOST, withDir('/sys/fs/cgroup/memory/user'), ID, ROOT)).toMatch(/caller's own cgroup or one of its parents/);
    expect(recordProblem(HOST, withDir('/etc'), ID, ROOT)).toMatch(/not strictly below/);
    expect(recordProblem(HOST, withDir('/sys/fs/cgroup/cpu,cpuacct/x', 0), ID, ROOT)).toMatch(
      /not strictly below \/sys\/fs\/cgroup\/memory/,
    );
    expect(recordProblem(HOST, withDir('/sys/fs/cgroup/memory/user/me/x/../../..'), ID, ROOT)).toMatch(/not a clean absolute path/);
    expect(recordProblem(HOST, withDir(`/sys/fs/cgroup/memory/other/${NAME}`), ID, ROOT)).toMatch(
      /default name but is not where create puts it/,
    );
  });
  it('refuses unknown hierarchies, wrong controllers, stray pending directories and freezer files', () => {
    const r = good();
    r.dirs[0].key = 'pids';
    expect(recordProblem(HOST, r, ID, ROOT)).toMatch(/hierarchy "pids" is not mounted/);
    const c = good();
    c.dirs[1].controllers = ['memory'];
    expect(recordProblem(HOST, c, ID, ROOT)).toMatch(/controllers do not match/);
    expect(recordProblem(HOST, { ...good(), pending: ['/home/me/empty'] }, ID, ROOT)).toMatch(/in no mounted cgroup hierarchy/);
    expect(recordProblem(HOST, { ...good(), pending: ['/sys/fs/cgroup/memory'] }, ID, ROOT)).toMatch(/in no mounted cgroup hierarchy/);
    expect(recordProblem(HOST, { ...good(), freezer: { file: '/etc/shadow', frozen: 'x' } }, ID, ROOT)).toMatch(/freezer file/);
    expect(recordProblem(undefined, good(), ID, ROOT)).toMatch(/no cgroup file system/);
  });
});

describe('exec target', () => {
  it('must have its own user and mount namespaces', () => {
    expect(() => checkIsContainer({ pid: 7, namespaces: ['user', 'mount', 'pid'] })).not.toThrow();
    expect(() => checkIsContainer({ pid: 7, namespaces: ['mount'] })).toThrow('container process 7: is in our own user namespace');
    expect(() => checkIsContainer({ pid: 7, namespaces: ['user'] })).toThrow('container process 7: is in our own mount namespace');
  });
});

describe('cgroup view binds', () => {
  it('are locked, except the whole-tree fallback', () => {
    const bits = { attrs: 0, propagation: 0, rdonly: 1, lockdown: 15 };
    const v1 = cgroupMountSteps('/sys/fs/cgroup', { mode: 'v1', v1: [{ name: 'memory', dir: '/m/c1' }], links: [] }, false, bits);
    expect(v1.filter((s) => s.op === 'bind').map((s) => s.op === 'bind' && s.lock)).toEqual([true]);
    const none = cgroupMountSteps('/sys/fs/cgroup', undefined, false, bits);
    expect(none.map((s) => s.op === 'bind' && s.lock)).toEqual([false]);
  });
});
