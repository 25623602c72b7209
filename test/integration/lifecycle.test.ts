// The create/start/state/kill/delete lifecycle and `run`, end to end with the
// built executable on a busybox bundle, as root and as an unprivileged user
// without /etc/subuid.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chroci, scratch, makeBundle, asArgv, defaultEnv, waitFor, isAlive, EXE, type As } from '../helpers/runtime';
import { runCase } from '../helpers/fuzz';

function args(...a: string[]) {
  return (c: any) => {
    c.process.args = a;
  };
}

function stateOf(root: string, id: string, as: As): any {
  const r = chroci(['--root', root, 'state', id], { as });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

// Root may map the container to ids that exclude its own (podman --uidmap,
// --userns=auto): the set-up then runs as the container's root.
describe("explicit id maps without the caller's own id (root)", () => {
  it('create, start, state and delete work; the program runs as the mapped root', async () => {
    const root = scratch('root');
    const bundle = makeBundle('root', (c) => {
      c.process.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map; touch /tmp/x && echo made; sleep 0.3'];
      c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 1000 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 1000 }];
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    });
    fs.chmodSync(bundle, 0o755); // the set-up ids (host 200000) must reach the rootfs
    const out = path.join(bundle, 'out');
    const c = spawnSync('sh', ['-c', `exec "$0" --root "$1" create --bundle "$2" m1 >"$3" 2>&1`, EXE, root, bundle, out]);
    expect(c.status, fs.readFileSync(out, 'utf8')).toBe(0);
    expect(stateOf(root, 'm1', 'root').status).toBe('created');
    expect(chroci(['--root', root, 'start', 'm1']).status).toBe(0);
    await waitFor(() => stateOf(root, 'm1', 'root').status === 'stopped');
    expect(
      fs
        .readFileSync(out, 'utf8')
        .split('\n')
        .map((l) => l.trim().replace(/\s+/g, ' ')),
    ).toEqual(['0', '0 200000 1000', 'made', '']);
    expect(chroci(['--root', root, 'delete', 'm1']).status).toBe(0);
  });
});

// A joined network namespace is owned by the caller's user namespace, where the
// kernel refuses a fresh sysfs once we are in ours: the runner makes it before.
describe('a joined network namespace (root)', () => {
  it("/sys shows that namespace's interfaces, not the host's", async () => {
    const holder = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
    const netns = (pid: number | string) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/ns/net`);
      } catch {
        return '';
      }
    };
    try {
      // unshare has made its namespace once its net link differs from ours.
      await waitFor(() => netns(holder.pid!) !== '' && netns(holder.pid!) !== netns('self'));
      const root = scratch('root');
      const bundle = makeBundle('root', (c) => {
        c.process.args = ['sh', '-c', 'ls /sys/class/net; grep " /sys " /proc/mounts | cut -d" " -f1,3,4'];
        c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network');
        c.linux.namespaces.push({ type: 'network', path: `/proc/${holder.pid}/ns/net` });
      });
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'jn']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('lo\nsysfs sysfs ro,nosuid,nodev,noexec,relatime\n');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe.each<As>(['root', 'user'])('lifecycle as %s', (as) => {
  it('run prints what the container printed and exits with its status', () => {
    const root = scratch(as);
    const bundle = makeBundle(as, args('sh', '-c', 'echo hello from $(hostname); exit 3'));
    const r = chroci(['--root', root, 'run', '--bundle', bundle, 'r1'], { as });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^hello from /);
    expect(r.status).toBe(3);
    expect(fs.readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('--no-pivot runs the container in its root (move-mount + chroot)', () => {
    const root = scratch(as);
    const bundle = makeBundle(as, args('sh', '-c', 'ls /; test -e /bin/busybox && echo in-root'));
    const r = chroci(['--root', root, 'run', '--no-pivot', '--bundle', bundle, 'np'], { as });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('in-root');
    expect(r.status).toBe(0);
  });

  it('run reports death by signal as 128+N', () => {
    const root = scratch(as);
    // Not pid 1 of a pid namespace: the kernel shields that one from its own signals.
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['sh', '-c', 'kill -9 $$'];
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
    });
    expect(chroci(['--root', root, 'run', '--bundle', bundle, 'r2'], { as }).status).toBe(137);
  });

  it('create → created, start → running, kill → stopped, delete → gone', async () => {
    const root = scratch(as);
    const bundle = makeBundle(as, args('sleep', '100'));
    const pidFile = path.join(bundle, 'pid');
    const c = chroci(['--root', root, 'create', '--bundle', bundle, '--pid-file', pidFile, 'c1'], { as });
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    let s = stateOf(root, 'c1', as);
    expect(s).toMatchObject({ id: 'c1', status: 'created', pid, bundle });
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);

    expect(chroci(['--root', root, 'start', 'c1'], { as }).status).toBe(0);
    s = stateOf(root, 'c1', as);
    expect(s.status).toBe('running');
    // start twice: an error naming the status
    const again = chroci(['--root', root, 'start', 'c1'], { as });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/running/);
    // delete of a running container without --force: refused, nothing changes
    const del = chroci(['--root', root, 'delete', 'c1'], { as });
    expect(del.status).toBe(1);
    expect(del.stderr).toMatch(/running/);

    const list = chroci(['--root', root, 'list', '--format', 'json'], { as });
    expect(JSON.parse(list.stdout).map((x: any) => [x.id, x.status])).toEqual([['c1', 'running']]);

    expect(chroci(['--root', root, 'kill', 'c1', 'KILL'], { as }).status).toBe(0);
    await waitFor(() => stateOf(root, 'c1', as).status === 'stopped');
    const k = chroci(['--root', root, 'kill', 'c1', '15'], { as });
    expect(k.status).toBe(1);

    expect(chroci(['--root', root, 'delete', 'c1'], { as }).status).toBe(0);
    expect(fs.readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(chroci(['--root', root, 'state', 'c1'], { as }).stderr).toMatch(/does not exist/);
  });

  it('the program begins only after start has exited (buildah sets up its signal handling then)', async () => {
    const root = scratch(as);
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['touch', '/ran'];
      c.root.readonly = false;
    });
    const ran = path.join(bundle, 'rootfs', 'ran');
    expect(chroci(['--root', root, 'create', '--bundle', bundle, 'o1'], { as }).status).toBe(0);
    // strace holds start for 1.5 s at its exit, after the fifo was read.
    const argv = asArgv(
      as,
      ['strace', '-f', '-o', '/dev/null', '-e', 'inject=exit_group:delay_enter=1500000', EXE, '--root', root, 'start', 'o1'],
      defaultEnv(as),
    );
    const start = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => start.on('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    await waitFor(() => stateOf(root, 'o1', as).status === 'running');
    expect(done).toBe(false);
    expect(fs.existsSync(ran)).toBe(false);
    expect(await exited).toBe(0);
    await waitFor(() => fs.existsSync(ran));
    await waitFor(() => stateOf(root, 'o1', as).status === 'stopped');
    expect(chroci(['--root', root, 'delete', 'o1'], { as }).status).toBe(0);
  });

  it('linux.devices are host nodes of the same number; a device the host lacks is one line naming it', () => {
    const root = scratch(as);
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['sh', '-c', 'ls -l /dev/xnull /dev/zero | cut -c1-10; head -c 3 /dev/xnull | wc -c'];
      c.linux.devices = [{ type: 'c', path: '/dev/xnull', major: 1, minor: 3, fileMode: 0o20666, uid: 0, gid: 0 }];
    });
    const r = chroci(['--root', root, 'run', '--bundle', bundle, 'dv'], { as });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('crw-rw-rw-\ncrw-rw-rw-\n0\n');
    const cfg = path.join(bundle, 'config.json');
    const c = JSON.parse(fs.readFileSync(cfg, 'utf8'));
    c.linux.devices = [{ type: 'b', path: '/dev/nope', major: 4095, minor: 1048575 }];
    fs.writeFileSync(cfg, JSON.stringify(c));
    const bad = chroci(['--root', root, 'run', '--bundle', bundle, 'dv2'], { as });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe(
      'ch-run-oci: linux.devices[0] /dev/nope: no host device b 4095:1048575 to bind (device nodes cannot be made without privilege)\n',
    );
    expect(fs.readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('linux.personality LINUX32 gives a 32-bit uname; personality flags are refused in one line', () => {
    const root = scratch(as);
    const bundle = makeBundle(as, (c) => {
      c.process.args = ['uname', '-m'];
      c.linux.personality = { domain: 'LINUX32' };
    });
    const r = chroci(['--root', root, 'run', '--bundle', bundle, 'p32'], { as });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^i[3-6]86\n$/);
    const cfg = path.join(bundle, 'config.json');
    const c = JSON.parse(fs.readFileSync(cfg, 'utf8'));
    c.linux.personality.flags = ['ADDR_NO_RANDOMIZE'];
    fs.writeFileSync(cfg, JSON.stringify(c));
    const bad = chroci(['--root', root, 'run', '--bundle', bundle, 'p32b'], { as });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('ch-run-oci: config.json: /linux/personality/flags: personality flags are not supported\n');
  });

  it('delete of a created container kills it; delete --force of a running one too', async () => {
    const root = scratch(as);
    const bundle = makeBundle(as, args('sleep', '100'));
    for (const [id, start] of [
      ['d1', false],
      ['d2', true],
    ] as const) {
      const pidFile = path.join(bundle, `${id}.pid`);
      expect(chroci(['--root', root, 'create', '--bundle', bundle, '--pid-file', pidFile, id], { as }).status).toBe(0);
      if (start) expect(chroci(['--root', root, 'start', id], { as }).status).toBe(0);
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      const r = chroci(['--root', root, 'delete', ...(start ? ['--force'] : []), id], { as });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      await waitFor(() => !isAlive(pid));
    }
    expect(fs.readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('a second create of the same id fails with "already exists" and keeps the first', () => {
    const root = scratch(as);
    const bundle = makeBundle(as, args('true'));
    expect(chroci(['--root', root, 'create', '--bundle', bundle, 'dup'], { as }).status).toBe(0);
    const r = chroci(['--root', root, 'create', '--bundle', bundle, 'dup'], { as });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already exists/);
    expect(stateOf(root, 'dup', as).status).toBe('created');
    expect(chroci(['--root', root, 'delete', 'dup'], { as }).status).toBe(0);
  });

  it('a buildah-like subreaper gets the exit status, and create leaves only the container', async () => {
    const root = scratch(as);
    const bundle = makeBundle(as, args('sh', '-c', 'echo out; echo err >&2; exit 3'));
    const pidFile = path.join(bundle, 'subreaper.pid');
    // As buildah: create with pipes as the container's stdout/stderr, start, wait4() the pid-file's pid.
    const r = await runCase(
      [
        { args: ['--root', root, 'create', '--bundle', bundle, '--pid-file', pidFile, 'sr1'], pipe: true, children: true },
        { args: ['--root', root, 'start', 'sr1'] },
        { args: [], reap: pidFile },
      ],
      { as, graceMs: 0 },
    );
    const [create, start, container] = r.steps;
    expect(create.status).toBe('exit 0');
    // Fake root's supervisor (single-id containers) is re-parented to us too; buildah never waits for it.
    const pid = fs.readFileSync(pidFile, 'utf8').trim();
    expect(create.children.filter((l) => !l.endsWith(' chroci-fakeroot')).map((l) => l.split(' ')[0])).toEqual([pid]);
    expect(start.status).toBe('exit 0');
    expect(container.status).toBe('exit 3');
    expect(r.pipe).toContain('out\n');
    expect(r.pipe).toContain('err\n');
    expect(r.pipeEof).toBe('yes');
    expect(stateOf(root, 'sr1', as).status).toBe('stopped');
    expect(chroci(['--root', root, 'delete', 'sr1'], { as }).status).toBe(0);
  });

  it('the container gets the config: ids, env, cwd, hostname, pid namespace, no leaked fds', () => {
    const root = scratch(as);
    const bundle = makeBundle(as, (c) => {
      c.process.args = [
        'sh',
        '-c',
        'id -u; id -g; pwd; hostname; echo $$; env | sort | tr "\\n" " "; echo; ls /proc/self/fd | tr "\\n" " "',
      ];
      c.process.env = ['PATH=/bin', 'FOO=bar baz'];
      c.process.cwd = '/work/dir';
      c.root.readonly = false;
      c.hostname = 'boxy';
    });
    const r = chroci(['--root', root, 'run', '--bundle', bundle, 'cfg'], {
      as,
      env: { ...defaultEnv(as), LEAK_ME: 'no' },
    });
    expect(r.stderr).toBe('');
    const [uid, gid, cwd, host, pid1, env, fds] = r.stdout.split('\n');
    expect([uid, gid, cwd, host, pid1]).toEqual(['0', '0', '/work/dir', 'boxy', '1']);
    // Exactly the config's variables, plus what the shell itself sets.
    const names = env
      .trim()
      .split(/ (?=[A-Z_]+=)/)
      .map((v) => v.split('=')[0]);
    expect(names.filter((n) => !['PWD', 'SHLVL', 'OLDPWD', '_'].includes(n))).toEqual(['FOO', 'HOME', 'PATH']); // HOME from the image's /etc/passwd (the config has none, as with runc)
    expect(env).toContain('HOME=/root');
    expect(env).toContain('FOO=bar baz');
    expect(env).not.toContain('LEAK_ME');
    // ls's own directory fd (3) is the only one beyond stdio.
    expect(fds.trim().split(' ')).toEqual(['0', '1', '2', '3']);
  });

  it('root.readonly and readonlyPaths make writes fail; maskedPaths read empty', () => {
    const root = scratch(as);
    const bundle = makeBundle(as, (c) => {
      c.root.readonly = true;
      c.linux.maskedPaths = ['/etc/secret'];
      c.process.args = ['sh', '-c', 'touch /x 2>/dev/null && echo wrote || echo rofs; cat /etc/secret; echo end'];
    });
    fs.writeFileSync(path.join(bundle, 'rootfs', 'etc', 'secret'), 'TOPSECRET\n');
    const r = chroci(['--root', root, 'run', '--bundle', bundle, 'ro'], { as });
    expect(r.stdout).toBe('rofs\nend\n');
    expect(r.status).toBe(0);
  });

  it('a mount destination symlinked out of the rootfs stays inside it', () => {
    const root = scratch(as);
    const outside = scratch(as, 'chroci-outside-');
    const bundle = makeBundle(as, (c) => {
      c.mounts.push({ destination: '/escape', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.process.args = ['sh', '-c', 'echo inside > /escape/marker'];
    });
    fs.symlinkSync(outside, path.join(bundle, 'rootfs', 'escape'));
    const r = chroci(['--root', root, 'run', '--bundle', bundle, 'esc'], { as });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
