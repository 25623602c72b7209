// cgroups end to end on this host (cgroup v1 with an empty cgroup2 mount at
// /sys/fs/cgroup/unified: "hybrid"), with crun and runc as controls where they
// can run the same config: limits that hold, pause/resume, update, kill --all
// and delete finding processes that outlived init, the container's own view
// of /sys/fs/cgroup, the v2 core files on the unified mount, and the rule for
// an unprivileged caller (who can write no cgroup here).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { asArgv, chroci, defaultEnv, makeBundle, scratch, testUser, waitFor, isAlive, spawnCaptured, type As } from '../helpers/runtime';
import { cgroupDirs, control, defaultLeftovers, dirFor, forControls, host, leftUnder, readTrim, removeParent } from '../helpers/cgroups';
import { V2 } from '../../src/cgroups/host';
import * as v2 from '../../src/cgroups/v2';
import { setUpCgroup, addProcess, freeze, thaw, isFrozen, signalAll, cgroupPids, removeCgroup } from '../../src/cgroups/manager';

// Every cgroup of this file lives under this parent (relative: under our own cgroup).
const PARENT = `chroci-it-${process.pid}`;
const cg = (name: string) => `${PARENT}/${name}`;

// State roots of this file: whatever a failed test left running is removed first.
const roots: [string, As][] = [];
function stateRoot(as: As = 'root'): string {
  const r = scratch(as);
  roots.push([r, as]);
  return r;
}

afterAll(() => {
  for (const [r, as] of roots) {
    for (const id of fs.existsSync(r) ? fs.readdirSync(r) : []) chroci(['--root', r, 'delete', '--force', id], { as });
  }
  expect(removeParent(PARENT)).toEqual([]);
});

function bundle(as: As, edit: (c: any) => void): string {
  return makeBundle(as, (c) => {
    c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    edit(c);
  });
}

/** A verb that must succeed (its stderr shown if not). */
function ok(args: string[], as: As = 'root'): void {
  const r = chroci(args, { as });
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
}

function state(root: string, id: string, as: As = 'root'): any {
  const r = chroci(['--root', root, 'state', id], { as });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** The same bundle, for crun/runc. */
function controlBundle(from: string): string {
  const dir = scratch('root', 'chroci-ctl-');
  fs.symlinkSync(path.join(from, 'rootfs'), path.join(dir, 'rootfs'));
  const c = forControls(JSON.parse(fs.readFileSync(path.join(from, 'config.json'), 'utf8')));
  c.root.path = path.join(from, 'rootfs');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

const gone = (dirs: Iterable<string>) => [...dirs].filter((d) => fs.existsSync(d));

describe('limits that hold (root)', () => {
  it('a memory limit OOM-kills an allocator: exit status 137, as with crun and runc', () => {
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('mem');
      c.linux.resources = { memory: { limit: 32 << 20, swap: 32 << 20 } };
      // busybox's sh runs its dd applet; the shell exits with dd's status.
      c.process.args = ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1'];
    });
    const r = chroci(['--root', stateRoot(), 'run', '--bundle', b, 'mem']);
    expect(r.status, r.stderr).toBe(137);
    expect(gone(cgroupDirs(cg('mem')).values())).toEqual([]);
    const ctl = controlBundle(b);
    for (const rt of ['crun', 'runc'] as const) expect(control(rt, scratch('root'), ctl, `ctl-mem-${rt}`).status, rt).toBe(137);
    // Without the limit the same program is fine.
    const free = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('mem-free');
      c.process.args = ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1'];
    });
    expect(chroci(['--root', stateRoot(), 'run', '--bundle', free, 'mem-free']).status).toBe(0);
  });

  it('a pids limit stops a fork loop', () => {
    // busybox's sh gives up (status 2) at the first fork the limit refuses;
    // after that the outer shell uses builtins only: no fork is left for cat.
    const loop =
      'sh -c \'i=0; while [ $i -lt 20 ]; do sleep 3 & i=$((i+1)); done\' 2>/tmp/err; echo $?; read n < /sys/fs/cgroup/pids/pids.current; echo $n; read e < /tmp/err; echo "$e" >&2';
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('pids');
      c.linux.resources = { pids: { limit: 6 } };
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] });
      c.process.args = ['sh', '-c', loop];
    });
    const r = chroci(['--root', stateRoot(), 'run', '--bundle', b, 'pids']);
    const [status, current] = r.stdout.trim().split('\n');
    expect(status).toBe('2');
    expect(Number(current)).toBeLessThanOrEqual(6);
    expect(r.stderr).toMatch(/can't fork: Resource temporarily unavailable/);
    for (const rt of ['crun', 'runc'] as const) {
      const ctl = control(rt, scratch('root'), controlBundle(b), `ctl-pids-${rt}`);
      expect(ctl.stdout.trim().split('\n')[0], rt).toBe('2');
      expect(ctl.stderr, rt).toMatch(/can't fork: Resource temporarily unavailable/);
    }
  });

  it('cpu quota, period and shares are in the cgroup files, on the host and inside', async () => {
    const root = stateRoot();
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('cpu');
      c.linux.resources = { cpu: { quota: 25000, period: 100000, shares: 256 } };
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'rw'] });
      c.process.args = ['sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares; sleep 30'];
    });
    expect(chroci(['--root', root, 'create', '--bundle', b, 'cpu']).status).toBe(0);
    const dir = dirFor(cg('cpu'), 'cpu');
    expect([readTrim(`${dir}/cpu.cfs_quota_us`), readTrim(`${dir}/cpu.cfs_period_us`), readTrim(`${dir}/cpu.shares`)]).toEqual([
      '25000',
      '100000',
      '256',
    ]);
    expect(chroci(['--root', root, 'start', 'cpu']).status).toBe(0);
    const pid = state(root, 'cpu').pid;
    // What the container sees, through its root: its own cgroup's files.
    expect(readTrim(`/proc/${pid}/root/sys/fs/cgroup/cpu/cpu.cfs_quota_us`)).toBe('25000');
    expect(chroci(['--root', root, 'delete', '--force', 'cpu']).status).toBe(0);
  });
});

describe('pause, resume, update (root)', () => {
  it('pause freezes a counter and state says paused; resume thaws it', async () => {
    const root = stateRoot();
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('pause');
      c.process.args = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; done'];
    });
    ok(['--root', root, 'create', '--bundle', b, 'p']);
    ok(['--root', root, 'start', 'p']);
    const pid = state(root, 'p').pid;
    const count = () => Number(fs.readFileSync(`/proc/${pid}/root/tmp/n`, 'utf8') || 0);
    await waitFor(() => {
      try {
        return count() > 10;
      } catch {
        return false;
      }
    });
    ok(['--root', root, 'pause', 'p']);
    expect(state(root, 'p').status).toBe('paused');
    expect(chroci(['--root', root, 'list']).stdout).toMatch(/\bp\s+\d+\s+paused\b/);
    const a = count();
    await new Promise((r) => setTimeout(r, 400));
    expect(count()).toBe(a);
    // A paused container cannot be started, exec'd into, paused again or deleted without force.
    expect(chroci(['--root', root, 'pause', 'p']).stderr).toMatch(/cannot pause a container that is paused/);
    expect(chroci(['--root', root, 'delete', 'p']).stderr).toMatch(/cannot delete a paused container/);
    ok(['--root', root, 'resume', 'p']);
    expect(state(root, 'p').status).toBe('running');
    await waitFor(() => count() > a);
    expect(chroci(['--root', root, 'resume', 'p']).stderr).toMatch(/cannot resume a container that is running/);
    // delete --force of a paused container: killed (thawed so it can die) and gone.
    ok(['--root', root, 'pause', 'p']);
    ok(['--root', root, 'delete', '--force', 'p']);
    expect(isAlive(pid)).toBe(false);
    expect(gone(cgroupDirs(cg('pause')).values())).toEqual([]);
  });

  it("update changes live limits: runc's flags and --resources (file or -), merged with what is in force", () => {
    const root = stateRoot();
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('upd');
      c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 50 } };
      c.process.args = ['sleep', '60'];
    });
    expect(chroci(['--root', root, 'create', '--bundle', b, 'u']).status).toBe(0);
    const mem = dirFor(cg('upd'), 'memory');
    const pids = dirFor(cg('upd'), 'pids');
    const cpu = dirFor(cg('upd'), 'cpu');
    expect(readTrim(`${mem}/memory.limit_in_bytes`)).toBe(String(64 << 20));
    let r = chroci(['--root', root, 'update', '--memory', '48m', '--pids-limit', '11', '--cpu-quota', '30000', 'u']);
    expect(r.status, r.stderr).toBe(0);
    expect([readTrim(`${mem}/memory.limit_in_bytes`), readTrim(`${pids}/pids.max`), readTrim(`${cpu}/cpu.cfs_quota_us`)]).toEqual([
      String(48 << 20),
      '11',
      '30000',
    ]);
    r = chroci(['--root', root, 'update', '--resources', '-', 'u'], {
      input: JSON.stringify({ cpu: { shares: 512 }, pids: { limit: 12 } }),
    });
    expect(r.status, r.stderr).toBe(0);
    expect([readTrim(`${cpu}/cpu.shares`), readTrim(`${pids}/pids.max`), readTrim(`${mem}/memory.limit_in_bytes`)]).toEqual([
      '512',
      '12',
      String(48 << 20),
    ]);
    const file = path.join(b, 'res.json');
    fs.writeFileSync(file, JSON.stringify({ memory: { limit: 40 << 20 } }));
    expect(chroci(['--root', root, 'update', '-r', file, 'u']).status).toBe(0);
    expect(readTrim(`${mem}/memory.limit_in_bytes`)).toBe(String(40 << 20));
    // Bad input: one line, nothing changed.
    r = chroci(['--root', root, 'update', '--memory', 'lots', 'u']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('ch-run-oci: --memory "lots": must be a size such as 512m, 1g or a number of bytes\n');
    r = chroci(['--root', root, 'update', '--resources', '-', 'u'], { input: '{"memory": {"limit": 1, "swappiness": 500}}' });
    expect(r.stderr).toBe('ch-run-oci: linux.resources.memory.swappiness: 500 is not in 0-100\n');
    expect(readTrim(`${mem}/memory.limit_in_bytes`)).toBe(String(40 << 20));
    expect(chroci(['--root', root, 'delete', 'u']).status).toBe(0);
    expect(chroci(['--root', root, 'update', '--memory', '1g', 'u']).stderr).toMatch(/does not exist/);
  });

  it("events --stats prints runc's stats event", () => {
    const root = stateRoot();
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('ev');
      c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 9 } };
      c.process.args = ['sleep', '60'];
    });
    expect(chroci(['--root', root, 'create', '--bundle', b, 'ev']).status).toBe(0);
    const r = chroci(['--root', root, 'events', '--stats', 'ev']);
    expect(r.status, r.stderr).toBe(0);
    const ev = JSON.parse(r.stdout);
    expect(ev).toMatchObject({ type: 'stats', id: 'ev', data: { memory: { usage: { limit: 64 << 20 } }, pids: { current: 1, limit: 9 } } });
    expect(ev.data.memory.usage.usage).toBeGreaterThan(0);
    expect(chroci(['--root', root, 'delete', '--force', 'ev']).status).toBe(0);
  });
});

describe('processes that outlive init (root, no pid namespace)', () => {
  const noPidNs = (c: any) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
    c.process.args = ['sh', '-c', 'sleep 1000 & sleep 1001 & echo started > /tmp/s; exec sleep 1002'];
  };

  /** The container's three processes (ps, while its init lives). */
  async function processes(root: string, name: string): Promise<number[]> {
    let pids: number[] = [];
    await waitFor(() => {
      pids = JSON.parse(chroci(['--root', root, 'ps', '--format', 'json', name]).stdout);
      return pids.length === 3;
    });
    return pids;
  }

  for (const how of ['kill --all', 'delete --force'] as const) {
    it(`${how} finds them through the cgroup after init died`, async () => {
      const root = stateRoot();
      const name = how === 'kill --all' ? 'orphans-kill' : 'orphans-del';
      const b = bundle('root', (c) => {
        c.linux.cgroupsPath = cg(name);
        noPidNs(c);
      });
      ok(['--root', root, 'create', '--bundle', b, name]);
      ok(['--root', root, 'start', name]);
      const init = state(root, name).pid;
      const pids = await processes(root, name);
      try {
        process.kill(init, 'SIGKILL');
        await waitFor(() => state(root, name).status === 'stopped');
        // ps still shows the two that are left (the cgroup knows them).
        const ps = JSON.parse(chroci(['--root', root, 'ps', '--format', 'json', name]).stdout);
        expect(ps.sort()).toEqual(pids.filter((p) => p !== init).sort());
        if (how === 'kill --all') {
          ok(['--root', root, 'kill', '--all', name, 'KILL']);
          await waitFor(() => pids.every((p) => !isAlive(p)), 3000).catch(() => undefined);
          expect(pids.filter(isAlive)).toEqual([]);
          ok(['--root', root, 'delete', name]);
        } else {
          ok(['--root', root, 'delete', '--force', name]);
          expect(pids.filter(isAlive)).toEqual([]);
        }
        expect(gone(cgroupDirs(cg(name)).values())).toEqual([]);
      } finally {
        for (const p of pids.filter(isAlive)) process.kill(p, 'SIGKILL');
      }
    });
  }

  it("exec'd processes join the container's cgroups", async () => {
    const root = stateRoot();
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('exec');
      c.process.args = ['sleep', '60'];
    });
    expect(chroci(['--root', root, 'create', '--bundle', b, 'ex']).status).toBe(0);
    expect(chroci(['--root', root, 'start', 'ex']).status).toBe(0);
    const r = chroci(['--root', root, 'exec', 'ex', 'cat', '/proc/self/cgroup']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\d+:pids:/${PARENT}/exec$`, 'm'));
    expect(chroci(['--root', root, 'delete', '--force', 'ex']).status).toBe(0);
  });
});

describe("the container's /sys/fs/cgroup (root)", () => {
  it('v1: its own cgroup per hierarchy, read-only; /proc/self/cgroup names it', () => {
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('view');
      c.linux.resources = { memory: { limit: 50 << 20 }, pids: { limit: 33 } };
      c.mounts.push({
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'rw'],
      });
      c.process.args = [
        'sh',
        '-c',
        [
          'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max',
          'ls /sys/fs/cgroup | tr "\\n" " "; echo',
          'echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null && echo writable || echo read-only',
          'touch /sys/fs/cgroup/x 2>/dev/null && echo writable || echo read-only',
          'ls /sys/fs/cgroup/pids | grep -c "^chroci" || true',
          'grep pids /proc/self/cgroup',
        ].join('; '),
      ];
    });
    const r = chroci(['--root', stateRoot(), 'run', '--bundle', b, 'view']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual([String(50 << 20), '33']);
    for (const h of host().hierarchies) {
      const name = h.key === V2 ? 'unified' : path.basename(h.mountpoint);
      expect(lines[2].split(' '), name).toContain(name);
    }
    expect(lines.slice(3, 6)).toEqual(['read-only', 'read-only', '0']);
    expect(lines[6]).toMatch(new RegExp(`:pids:/${PARENT}/view$`));
  });

  it("hybrid, in a cgroup namespace: the unified mount is a fresh cgroup2 rooted at the container's cgroup", () => {
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('ns');
      c.linux.namespaces.push({ type: 'cgroup' });
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] });
      c.process.args = [
        'sh',
        '-c',
        'grep "^0::" /proc/self/cgroup; head -1 /sys/fs/cgroup/unified/cgroup.procs; grep " /sys/fs/cgroup/unified " /proc/self/mounts',
      ];
    });
    const r = chroci(['--root', stateRoot(), 'run', '--bundle', b, 'ns']);
    expect(r.status, r.stderr).toBe(0);
    const [self, first, mount] = r.stdout.trim().split('\n');
    expect(self).toBe('0::/');
    // Its cgroup.procs lists the container's own processes (pid 1 first), not the host's.
    expect(first).toBe('1');
    expect(mount).toMatch(/^cgroup2 \/sys\/fs\/cgroup\/unified cgroup2 ro,/);
  });
});

describe('paths and managers (root)', () => {
  it('no cgroupsPath: a cgroup of its own under ours, named for the state root and id, gone after delete', () => {
    const root = stateRoot();
    const b = bundle('root', (c) => {
      c.process.args = ['sh', '-c', 'grep pids /proc/self/cgroup'];
    });
    expect(chroci(['--root', root, 'create', '--bundle', b, 'dflt']).status).toBe(0);
    expect(defaultLeftovers(root).length).toBe(host().hierarchies.length);
    expect(chroci(['--root', root, 'delete', 'dflt']).status).toBe(0);
    expect(defaultLeftovers(root)).toEqual([]);
  });

  it('--systemd-cgroup: slice:prefix:name becomes the cgroupfs path systemd would use (crun and runc: an error without systemd)', () => {
    const root = stateRoot();
    const slice = `chrociit${process.pid}.slice`;
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = `${slice}:test:abc`;
      c.process.args = ['sh', '-c', 'grep pids /proc/self/cgroup'];
    });
    const r = chroci(['--root', root, '--systemd-cgroup', 'run', '--bundle', b, 'sd']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`:pids:/${slice}/test-abc\\.scope$`));
    const bad = chroci([
      '--root',
      root,
      '--systemd-cgroup',
      'run',
      '--bundle',
      bundle('root', (c) => {
        c.linux.cgroupsPath = '/plain/path';
      }),
      'sd2',
    ]);
    expect(bad.stderr).toBe('ch-run-oci: linux.cgroupsPath: expected "slice:prefix:name" for systemd cgroups, got "/plain/path"\n');
    const ctl = spawnCaptured(['runc', '--root', scratch('root'), '--systemd-cgroup', 'run', '--bundle', controlBundle(b), 'ctl-sd']);
    expect(ctl.status).not.toBe(0);
    expect(ctl.stderr).toMatch(/systemd not running/);
    for (const h of host().hierarchies) {
      for (const d of [path.join(h.mountpoint, slice, 'test-abc.scope'), path.join(h.mountpoint, slice)])
        if (fs.existsSync(d)) fs.rmdirSync(d);
    }
  });

  it('--cgroup-manager disabled: no cgroup; a limit is refused', () => {
    const root = stateRoot();
    const b = bundle('root', (c) => {
      c.process.args = ['true'];
    });
    expect(chroci(['--root', root, '--cgroup-manager', 'disabled', 'run', '--bundle', b, 'off']).status).toBe(0);
    expect(defaultLeftovers(root)).toEqual([]);
    const lim = bundle('root', (c) => {
      c.linux.resources = { pids: { limit: 3 } };
    });
    const r = chroci(['--root', root, '--cgroup-manager=disabled', 'create', '--bundle', lim, 'off2']);
    expect(r.stderr).toBe('ch-run-oci: linux.resources.pids: cannot be applied: --cgroup-manager disabled\n');
  });

  it('refuses a cgroupsPath that is our own cgroup or a parent of it, and a cgroup in use', () => {
    const root = stateRoot();
    const r = chroci([
      '--root',
      root,
      'create',
      '--bundle',
      bundle('root', (c) => {
        c.linux.cgroupsPath = '/';
      }),
      'own',
    ]);
    expect(r.stderr).toMatch(/^ch-run-oci: linux.cgroupsPath "\/": \/ \(.*\) is the caller's own cgroup or one of its parents\n$/);
    const b1 = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('shared');
      c.process.args = ['sleep', '30'];
    });
    expect(chroci(['--root', root, 'create', '--bundle', b1, 'first']).status).toBe(0);
    const second = chroci(['--root', root, 'create', '--bundle', b1, 'second']);
    expect(second.stderr).toMatch(
      /^ch-run-oci: linux\.cgroupsPath ".*shared": \/sys\/fs\/cgroup\/.*: container's cgroup is not empty: 1 process\(es\) found\n$/,
    );
    expect(chroci(['--root', root, 'state', 'second']).stderr).toMatch(/does not exist/);
    expect(chroci(['--root', root, 'delete', '--force', 'first']).status).toBe(0);
  });

  it('a failed create leaves no cgroup', () => {
    const root = stateRoot();
    const b = bundle('root', (c) => {
      c.linux.cgroupsPath = cg('failed');
      c.linux.resources = { pids: { limit: 5 } };
      c.process.args = ['/no/such/program'];
    });
    const r = chroci(['--root', root, 'create', '--bundle', b, 'bad']);
    expect(r.status).toBe(1);
    expect(gone(cgroupDirs(cg('failed')).values())).toEqual([]);
    expect(leftUnder(PARENT).filter((d) => d.endsWith('/failed'))).toEqual([]);
  });
});

// The hybrid host's cgroup2 mount has no controllers, but every cgroup2
// directory has the core files: the v2 code on a real cgroup2 file system.
describe('cgroup v2 core files on the real unified mount (root)', () => {
  it('procs, populated, freeze, kill, removal through the v2 manager', async () => {
    const h = host();
    const unified = h.hierarchies.find((x) => x.key === V2);
    if (!unified) return; // not a hybrid host
    // A pure-v2 host whose /sys/fs/cgroup is the unified mount.
    const asV2 = { mode: 'v2' as const, base: unified.mountpoint, hierarchies: [unified], links: [] };
    const { record } = setUpCgroup(
      asV2,
      { id: 'v2core', stateRoot: '/x', manager: 'cgroupfs', privileged: true, cgroupsPath: cg('v2core') },
      () => undefined,
    );
    const dir = record!.dirs[0].dir;
    expect(record!.freezer).toEqual({ file: path.join(dir, 'cgroup.freeze'), frozen: '1' });
    expect(v2.populated(dir)).toBe(false);
    // One process and no children: a child forked before or after the move would race the pid list.
    const child = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    // A failed assertion must not leave the busy loop running.
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    addProcess(record!, child.pid!);
    expect(cgroupPids(record!)).toEqual([child.pid]);
    expect(v2.populated(dir)).toBe(true);
    freeze(record!);
    expect(isFrozen(record!)).toBe(true);
    expect(v2.events(dir).frozen).toBe(1);
    thaw(record!);
    expect(v2.events(dir).frozen).toBe(0);
    expect(signalAll(record!, 9)).toEqual([child.pid]);
    expect(await exited).toBe('SIGKILL');
    await waitFor(() => !v2.populated(dir));
    removeCgroup(record!);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

// No cgroup can be written here by an ordinary user (v1, and the unified mount
// is root's): runc's rootless rule. crun runs such a config without its limit.
describe('an unprivileged caller (no writable cgroup)', () => {
  it('a limit is refused with the field named, as runc does; nothing is left', () => {
    const root = stateRoot('user');
    const b = bundle('user', (c) => {
      c.linux.resources = { memory: { limit: 64 << 20 } };
    });
    const r = chroci(['--root', root, 'create', '--bundle', b, 'lim'], { as: 'user' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^ch-run-oci: linux\.resources\.memory\.limit: cannot be applied: no writable cgroup: an unprivileged caller cannot create cgroups on cgroup v1\n$/,
    );
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a cgroupsPath is refused (it cannot be created)', () => {
    const r = chroci(
      [
        '--root',
        stateRoot('user'),
        'create',
        '--bundle',
        bundle('user', (c) => {
          c.linux.cgroupsPath = '/chroci-user';
        }),
        'p',
      ],
      { as: 'user' },
    );
    expect(r.stderr).toMatch(/^ch-run-oci: linux\.cgroupsPath "\/chroci-user": cannot create \/sys\/fs\/cgroup\/.*: permission denied\n$/);
  });

  it("without limits it runs in the caller's cgroup (devices rules hold by construction); pause and update say why not", async () => {
    const root = stateRoot('user');
    const b = bundle('user', (c) => {
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] });
      c.process.args = ['sh', '-c', 'cat /dev/null && echo null-ok; ls /sys/fs/cgroup/pids | grep -c "^cgroup.procs$"; sleep 30'];
    });
    expect(chroci(['--root', root, 'create', '--bundle', b, 'u'], { as: 'user' }).status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'u', 'state.json'), 'utf8'))).not.toHaveProperty('cgroup');
    expect(chroci(['--root', root, 'pause', 'u'], { as: 'user' }).stderr).toBe(
      'ch-run-oci: container "u": cannot pause: the container runs without a cgroup of its own (none could be created)\n',
    );
    expect(chroci(['--root', root, 'update', '--memory', '1g', 'u'], { as: 'user' }).stderr).toMatch(
      /cannot update resources: the container runs without a cgroup/,
    );
    expect(chroci(['--root', root, 'delete', '--force', 'u'], { as: 'user' }).status).toBe(0);
  });

  it('the controls: runc refuses the limit too, crun drops it', () => {
    const u = testUser();
    const b = bundle('user', (c) => {
      c.ociVersion = '1.0.2';
      c.linux.resources = { pids: { limit: 5 } };
      c.linux.uidMappings = [{ containerID: 0, hostID: u.uid, size: 1 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: u.gid, size: 1 }];
      c.process.args = ['true'];
    });
    const run = (rt: string) =>
      spawnCaptured(asArgv('user', [rt, '--root', scratch('user'), 'run', '--bundle', b, `ctl-${rt}`], defaultEnv('user')));
    const runc = run('runc');
    expect(runc.status).not.toBe(0);
    expect(runc.stderr).toMatch(/cannot set pids limit: container could not join or create cgroup/);
    expect(run('crun').status).toBe(0);
  });
});
