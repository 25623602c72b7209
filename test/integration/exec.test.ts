// exec: one more process in a running container, as runc's exec (and podman's
// conmon) use it. As root and as an unprivileged user without subuids.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chroci, scratch, makeBundle, chownTree, SHARED, type As } from '../helpers/runtime';

describe.each<As>(['root', 'user'])('exec as %s', (as) => {
  let root: string;
  let bundle: string;
  const id = 'ex1';
  const rt = (...a: string[]) => chroci(['--root', root, ...a], { as });

  beforeAll(() => {
    root = scratch(as);
    bundle = makeBundle(as, (c) => {
      c.process.args = ['sleep', '1000'];
      c.process.env = ['PATH=/bin', 'BASE=1'];
    });
    expect(rt('create', '--bundle', bundle, id).status).toBe(0);
    expect(rt('start', id).status).toBe(0);
  });
  afterAll(() => {
    rt('delete', '--force', id);
  });

  it('runs a command in the container namespaces and returns its status', () => {
    const r = rt('exec', id, 'sh', '-c', 'echo pid=$$ host=$(hostname); cat /proc/1/cmdline | tr "\\0" " "; exit 5');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(5);
    expect(r.stdout).toMatch(/^pid=\d+ host=\S+\nsleep 1000 $/);
    expect(r.stdout).not.toMatch(/^pid=1 /);
  });

  it('keeps the container environment and takes -e and --cwd', () => {
    const r = rt('exec', '-e', 'EXTRA=2', '--cwd', '/tmp', id, 'sh', '-c', 'echo $BASE $EXTRA; pwd');
    expect(r.stdout).toBe('1 2\n/tmp\n');
  });

  it('passes stdin through', () => {
    const r = chroci(['--root', root, 'exec', id, 'cat'], { as, input: 'through stdin\n' });
    expect(r.stdout).toBe('through stdin\n');
  });

  it("runs podman's process.json with --detach and --pid-file", async () => {
    const dir = scratch(as);
    const proc = JSON.parse(fs.readFileSync(path.join(SHARED, 'configs/podman-4.3-exec-process.json'), 'utf8'));
    proc.args = ['sh', '-c', 'echo detached > /dev/shm/exec-marker'];
    delete proc.rlimits; // podman's root limits may exceed what this machine grants
    fs.writeFileSync(path.join(dir, 'process.json'), JSON.stringify(proc));
    chownTree(dir, as);
    const pidFile = path.join(dir, 'exec.pid');
    const r = rt('exec', '--process', path.join(dir, 'process.json'), '--detach', '--pid-file', pidFile, id);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).toBeGreaterThan(0);
    for (let i = 0; i < 100 && rt('exec', id, 'cat', '/dev/shm/exec-marker').stdout === ''; i++)
      await new Promise((res) => setTimeout(res, 20));
    expect(rt('exec', id, 'cat', '/dev/shm/exec-marker').stdout).toBe('detached\n');
  });

  it('refuses a detached terminal without a console socket, a bad process.json and a stopped container with one line', () => {
    const tty = rt('exec', '-t', '-d', id, 'sh');
    expect(tty.status).toBe(1);
    expect(tty.stderr).toBe('ch-run-oci: cannot allocate tty if ch-run-oci will detach without setting console socket\n');
    const dir = scratch(as);
    fs.writeFileSync(path.join(dir, 'p.json'), JSON.stringify({ cwd: '/', args: 'sh' }));
    chownTree(dir, as);
    const bad = rt('exec', '--process', path.join(dir, 'p.json'), id);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/p\.json: \/args: /);
    expect(rt('exec', 'nope', 'true').stderr).toMatch(/does not exist/);
  });

  it('gets the same fake root as the container (single-id: chown succeeds)', () => {
    const r = rt('exec', id, 'sh', '-c', 'touch /dev/shm/f && chown 1234:1234 /dev/shm/f && echo ok');
    if (as === 'user') {
      expect(r.stdout).toBe('ok\n');
    } else {
      // Root maps every id: no fake root, the kernel decides (the default
      // spec grants no CAP_CHOWN, so the chown is refused for real).
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/chown.*(not permitted|Operation)/i);
    }
  });

  it('--user picks a mapped id; an unmapped one is a clear error', () => {
    const r = rt('exec', '--user', '1000:1000', id, 'id', '-u');
    if (as === 'root') {
      expect(r.stdout).toBe('1000\n');
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/uid.*1000.*not mapped/);
    }
  });
});
