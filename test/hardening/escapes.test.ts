// Escapes and leaks, each a regression test: mount destinations through
// symlinks (absolute, ../../.., loops, swapped in during set-up), ids that try
// to leave the state root, state root ownership and modes, file descriptors,
// the container's cwd (cf. runc CVE-2024-21626), the runner executable
// (cf. runc CVE-2019-5736) and the caller's environment.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXE, REPO, asArgv, chownTree, chroci, defaultEnv, makeBundle, testUser, type As } from '../helpers/runtime';
import { figure, hardenDir, ownedDir, pool, rootLeftovers, runCase, stepProblems } from '../helpers/fuzz';

let work: string;
/** Bundles made in the system temp dir, removed at the end. */
const made: string[] = [];
const SIDES: As[] = ['root', 'user'];

beforeAll(() => {
  work = hardenDir('esc');
});

afterAll(() => {
  if (work) execFileSync('rm', ['-rf', work, ...made]);
});

/** A fresh bundle for `as`, its config edited, plus a private state root. */
function setup(as: As, name: string, edit: (c: any) => void): { bundle: string; root: string } {
  const bundle = makeBundle(as, edit);
  made.push(bundle);
  fs.chmodSync(bundle, 0o755);
  return { bundle, root: path.join(ownedDir(work, `${name}-${as}`, as), 'state') };
}

function oneLine(r: { status: number | null; stderr: string }): void {
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^ch-run-oci: [^\n]+\n$/);
}

describe('mount destinations through symlinks never leave the rootfs', () => {
  for (const as of SIDES) {
    it(`absolute, relative ../../.., chained and looping symlinks (${as})`, () => {
      const outside = ownedDir(work, `outside-${as}`, as);
      const cases: [string, string, string][] = [
        // [link name in the rootfs, link target, mount destination]
        ['abs', outside, '/abs/sub'],
        ['rel', '../../../../../../..' + outside, '/rel/sub'],
        ['dotdot', '..', '/dotdot/x/y'],
        ['chain1', 'chain2', '/chain1/m'],
        ['loop1', 'loop2', '/loop1/m'],
        ['self', 'self', '/self'],
        ['file', outside + '/host-file', '/file'],
      ];
      fs.writeFileSync(path.join(outside, 'host-file'), 'host\n');
      const results: string[] = [];
      for (const [name, target, dest] of cases) {
        const { bundle, root } = setup(as, `mnt-${name}`, (c) => {
          c.mounts.push(
            name === 'file'
              ? { destination: dest, type: 'bind', source: '/etc/hostname', options: ['bind', 'ro'] }
              : { destination: dest, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
          );
          c.process.args = ['sh', '-c', `echo inside > ${dest}/marker 2>/dev/null; true`];
        });
        const rootfs = path.join(bundle, 'rootfs');
        fs.symlinkSync(target, path.join(rootfs, name));
        if (name === 'chain1') fs.symlinkSync(outside, path.join(rootfs, 'chain2'));
        if (name === 'loop1') fs.symlinkSync('loop1', path.join(rootfs, 'loop2'));
        const r = chroci(['--root', root, 'run', '--bundle', bundle, `m-${name}`], { as });
        // Either it worked (inside the rootfs) or it failed with one line; never outside.
        if (r.status !== 0) oneLine(r);
        results.push(`${name}: ${r.status}`);
        expect(fs.readdirSync(outside).sort(), `${name}: ${r.stderr}`).toEqual(['host-file']);
        expect(fs.readFileSync(path.join(outside, 'host-file'), 'utf8')).toBe('host\n');
        expect(rootLeftovers(root)).toEqual([]);
        fs.rmSync(bundle, { recursive: true, force: true });
      }
      // The loops cannot resolve; the others land inside the rootfs and run.
      expect(results).toContain('abs: 0');
      expect(results).toContain('rel: 0');
    });

    it(`a symlink swapped in while containers are being set up (${as})`, async () => {
      const outside = ownedDir(work, `swap-outside-${as}`, as);
      const { bundle, root } = setup(as, 'swap', (c) => {
        c.mounts.push({ destination: '/swap/sub/deeper', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        c.process.args = ['true'];
      });
      const rootfs = path.join(bundle, 'rootfs');
      fs.mkdirSync(path.join(rootfs, 'swap'));
      chownTree(path.join(rootfs, 'swap'), as);
      // A flipper turns rootfs/swap into a symlink to the outside dir and back, as fast as it can.
      const flipper = spawn(
        'sh',
        ['-c', `cd ${rootfs} && while :; do mv swap swap.d && ln -s ${outside} swap && rm swap && mv swap.d swap; done`],
        { stdio: 'ignore' },
      );
      try {
        const runs = await pool(
          Array.from({ length: 20 }, (_, i) => i),
          4,
          (i) => runCase([{ as, args: ['--root', root, 'run', '--bundle', bundle, `swap${i}`] }], { timeoutMs: 30_000 }),
        );
        for (const r of runs) {
          expect(stepProblems(r.steps[0])).toEqual([]);
          expect(r.leftover).toEqual([]);
        }
        figure(
          `symlink swap race (${as})`,
          20,
          20,
          `${runs.filter((r) => r.steps[0].code === 0).length} ran, the rest failed with one line, nothing outside`,
        );
      } finally {
        flipper.kill('SIGKILL');
      }
      expect(fs.readdirSync(outside)).toEqual([]);
      expect(rootLeftovers(root)).toEqual([]);
    }, 120_000);
  }
});

describe('the state root', () => {
  it('ids cannot reach outside the state root', () => {
    const parent = ownedDir(work, 'ids', 'root');
    const root = path.join(parent, 'state');
    const bundle = makeBundle('root', (c) => {
      c.process.args = ['true'];
    });
    made.push(bundle);
    for (const id of ['..', '../x', '../../etc', '/etc', 'a/../../b', '.', 'x/..', 'a\nb', '.hidden']) {
      for (const verb of [['create', '--bundle', bundle], ['state'], ['delete', '--force'], ['kill'], ['start'], ['ps']]) {
        const r = chroci(['--root', root, ...verb, id]);
        oneLine(r);
        expect(r.stderr).toMatch(/container id/);
      }
    }
    expect(fs.readdirSync(parent)).toEqual(['state']);
    expect(rootLeftovers(root)).toEqual([]);
  });

  for (const as of SIDES) {
    it(`the state root and container dirs are 0700 and the caller's (${as})`, () => {
      const { bundle, root } = setup(as, 'perm', (c) => {
        c.process.args = ['true'];
      });
      expect(chroci(['--root', root, 'create', '--bundle', bundle, 'p'], { as }).status).toBe(0);
      const uid = as === 'root' ? 0 : testUser().uid;
      for (const d of [root, path.join(root, 'p')]) {
        const st = fs.statSync(d);
        expect((st.mode & 0o777).toString(8)).toBe('700');
        expect(st.uid).toBe(uid);
      }
      const state = fs.statSync(path.join(root, 'p', 'state.json'));
      expect(state.mode & 0o077).toBe(0);
      expect(chroci(['--root', root, 'delete', 'p'], { as }).status).toBe(0);
    });
  }

  it('a state root owned by someone else, group/world-writable or a planted symlink is refused', () => {
    const u = testUser();
    const rootOwned = ownedDir(work, 'foreign', 'root');
    fs.chmodSync(rootOwned, 0o700);
    let r = chroci(['--root', rootOwned, 'list'], { as: 'user' });
    oneLine(r);
    const userOwned = ownedDir(work, 'foreign-user', 'user');
    fs.chmodSync(userOwned, 0o700);
    r = chroci(['--root', userOwned, 'list']);
    oneLine(r);
    expect(r.stderr).toMatch(/owned by uid/);
    for (const mode of [0o770, 0o777, 0o1777, 0o720]) {
      const dir = ownedDir(work, `mode-${mode.toString(8)}`, 'user');
      fs.chmodSync(dir, mode);
      r = chroci(['--root', dir, 'list'], { as: 'user' });
      oneLine(r);
      expect(r.stderr).toMatch(/writable/);
    }
    // The default unprivileged root in /tmp, planted as a symlink by someone else.
    const planted = `/tmp/ch-run-oci-${u.uid}`;
    const had = fs.existsSync(planted);
    if (!had) {
      fs.symlinkSync(ownedDir(work, 'planted-target', 'user'), planted);
      try {
        r = chroci(['list'], { as: 'user', env: { PATH: '/usr/bin:/bin' } });
        oneLine(r);
        expect(r.stderr).toMatch(/symbolic link/);
      } finally {
        fs.unlinkSync(planted);
      }
    }
  });
});

describe('file descriptors, cwd, environment', () => {
  for (const as of SIDES) {
    it(`no runtime fd reaches the container: only 0-2 and --preserve-fds (${as})`, async () => {
      const { bundle, root } = setup(as, 'fds', (c) => {
        c.process.args = ['sleep', '30'];
      });
      const secret = path.join(work, `secret-${as}`);
      fs.writeFileSync(secret, 'secret\n', { mode: 0o644 });
      for (const preserve of [0, 2]) {
        // ch-run-oci itself gets fds 3..6 open; only `preserve` of them may pass.
        const extra = [3, 4, 5, 6].map(() => fs.openSync(secret, 'r'));
        const argv = asArgv(
          as,
          [EXE, '--root', root, 'create', '--preserve-fds', String(preserve), '--bundle', bundle, `f${preserve}`],
          defaultEnv(as),
        );
        // Files, not pipes, for output: the container keeps them open.
        const err = fs.openSync(path.join(work, `fds-err-${as}`), 'w+');
        const out = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', err, ...extra], timeout: 30_000 });
        extra.forEach((fd) => fs.closeSync(fd));
        fs.closeSync(err);
        expect(out.status, fs.readFileSync(path.join(work, `fds-err-${as}`), 'utf8')).toBe(0);
        expect(chroci(['--root', root, 'start', `f${preserve}`], { as }).status).toBe(0);
        const pid = JSON.parse(chroci(['--root', root, 'state', `f${preserve}`], { as }).stdout).pid;
        await waitExec(pid);
        const fds = fs
          .readdirSync(`/proc/${pid}/fd`)
          .map(Number)
          .sort((a, b) => a - b);
        expect(fds).toEqual(Array.from({ length: 3 + preserve }, (_, i) => i));
        expect(chroci(['--root', root, 'delete', '--force', `f${preserve}`], { as }).status).toBe(0);
      }
    });

    it(`the container's cwd is never a host directory (cf. CVE-2024-21626) (${as})`, () => {
      const results: string[] = [];
      const hostDir = ownedDir(work, `host-cwd-${as}`, as);
      fs.writeFileSync(path.join(hostDir, 'HOST_MARKER'), '');
      for (const cwd of [
        '/proc/self/fd/3',
        '/proc/self/fd/4',
        '/proc/self/fd/5',
        '/proc/self/fd/7',
        '/proc/self/fd/8',
        '/proc/self/cwd',
        '/proc/1/cwd',
        '/../../..',
        '../..',
      ]) {
        const { bundle, root } = setup(as, 'cwd', (c) => {
          c.process.cwd = cwd;
          c.process.args = ['sh', '-c', 'ls -a . .. ../.. 2>&1; pwd -P'];
        });
        const r = chroci(['--root', root, 'run', '--bundle', bundle, 'cwd'], { as, cwd: hostDir });
        expect(r.stdout).not.toMatch(/HOST_MARKER|chroci-|node_modules/);
        if (r.status !== 0) oneLine(r);
        results.push(`${cwd}: ${r.status === 0 ? r.stdout.trim().split('\n').pop() : 'refused'}`);
        fs.rmSync(bundle, { recursive: true, force: true });
      }
      // Relative and absolute climbs end at the container's /.
      expect(results).toContain('/../../..: /');
    });

    it(`nothing from the caller's environment reaches the container (${as})`, () => {
      const { bundle, root } = setup(as, 'env', (c) => {
        c.process.args = ['env'];
        c.process.env = ['PATH=/bin', 'ONLY=this'];
      });
      const env = {
        ...defaultEnv(as),
        SECRET_TOKEN: 'leak',
        LD_PRELOAD: '/evil.so',
        HOME: '/root/evil',
        XDG_RUNTIME_DIR: '/tmp',
        TERM: 'evil',
        CH_RUN_OCI_RUNNER_X: 'x',
      };
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'env'], { as, env });
      expect(r.status).toBe(0);
      // HOME is the image's (/etc/passwd), never the caller's /root/evil.
      expect(r.stdout.trim().split('\n').sort()).toEqual(['HOME=/root', 'ONLY=this', 'PATH=/bin']);
    });
  }
});

describe('the runner executable (cf. CVE-2019-5736)', () => {
  const binaries = [path.join(REPO, 'dist', 'ch-run-oci'), path.join(REPO, 'dist', 'runner', 'ch-run-oci-runner')];
  const hash = (f: string): string => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

  it('a created container runs an unnamed copy: not writable while it runs, and writing it later changes nothing', () => {
    const before = binaries.map(hash);
    const { bundle, root } = setup('root', 'exe', (c) => {
      c.process.args = ['true'];
    });
    expect(chroci(['--root', root, 'create', '--bundle', bundle, 'x']).status).toBe(0);
    const pid = JSON.parse(chroci(['--root', root, 'state', 'x']).stdout).pid;
    const exe = `/proc/${pid}/exe`;
    // No path names it: an O_TMPFILE file has no directory entry.
    expect(fs.readlinkSync(exe)).toMatch(/\(deleted\)$/);
    // While it runs the kernel refuses writers (even root).
    expect(() => fs.openSync(exe, 'r+')).toThrow(/ETXTBSY/);
    // Keep a handle on it, let it exec the user program, then write through the handle.
    const held = fs.openSync(exe, 'r');
    expect(chroci(['--root', root, 'start', 'x']).status).toBe(0);
    let wrote = 'refused';
    for (let i = 0; i < 100 && wrote === 'refused'; i++) {
      try {
        const w = fs.openSync(`/proc/self/fd/${held}`, 'r+');
        fs.writeSync(w, Buffer.from('#!/bin/sh\necho PWNED\n'), 0, undefined, 0);
        fs.closeSync(w);
        wrote = 'wrote the copy';
      } catch {
        execFileSync('sleep', ['0.02']);
      }
    }
    fs.closeSync(held);
    // Whatever happened to that copy, the runtime on disk and the next container are untouched.
    expect(binaries.map(hash)).toEqual(before);
    const again = setup('root', 'exe2', (c) => {
      c.process.args = ['echo', 'fine'];
    });
    const r = chroci(['--root', again.root, 'run', '--bundle', again.bundle, 'y']);
    expect(r.stdout).toBe('fine\n');
    expect(r.status).toBe(0);
    chroci(['--root', root, 'delete', '--force', 'x']);
    figure(
      'runner copy overwrite (CVE-2019-5736 shape)',
      1,
      1,
      `write through a held handle: ${wrote}; binaries unchanged, next run clean`,
    );
  });

  it('a root container racing `exec` for /proc/PID/exe cannot touch the runner', async () => {
    const before = binaries.map(hash);
    const { bundle, root } = setup('root', 'exec-race', (c) => {
      // Tries to open every new process's exe for writing, and through a held read handle later.
      c.process.args = [
        'sh',
        '-c',
        'while :; do for d in /proc/[0-9]*; do [ "$d" = /proc/1 ] && continue; [ "$d" = /proc/$$ ] && continue; ' +
          'r=$(readlink $d/exe 2>/dev/null); case "$r" in *deleted*) echo "$r" >>/tmp/saw;; esac; ' +
          'if (: >>"$d/exe") 2>/dev/null; then echo "WROTE $r" >>/tmp/wrote; fi; done; done',
      ];
    });
    expect(chroci(['--root', root, 'create', '--bundle', bundle, 'e']).status).toBe(0);
    expect(chroci(['--root', root, 'start', 'e']).status).toBe(0);
    let execs = 0;
    for (let i = 0; i < 10; i++) {
      const r = chroci(['--root', root, 'exec', 'e', 'true']);
      if (r.status === 0) execs++;
    }
    const wrote = chroci(['--root', root, 'exec', 'e', 'cat', '/tmp/wrote']).stdout;
    const saw = chroci(['--root', root, 'exec', 'e', 'cat', '/tmp/saw']).stdout.split('\n').filter(Boolean).length;
    chroci(['--root', root, 'delete', '--force', 'e']);
    // Only the container's own files may have been opened for writing, never the runner.
    expect(wrote).not.toMatch(/runner|ch-run-oci|deleted|memfd/);
    expect(binaries.map(hash)).toEqual(before);
    figure(
      'exec race on /proc/PID/exe',
      execs,
      execs,
      `the container saw the runner copy ${saw} times and never opened it for writing; ${wrote.split('\n').filter(Boolean).length} writes to container-owned files`,
    );
  }, 120_000);
});

async function waitExec(pid: number): Promise<void> {
  // After start the container process execs its program; wait until it has.
  for (let i = 0; i < 200; i++) {
    try {
      if (!fs.readlinkSync(`/proc/${pid}/exe`).includes('(deleted)')) return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
