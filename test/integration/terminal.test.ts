// process.terminal, runc's protocol: a console socket receives the pty master
// (conmon's and containerd-shim's way), and `run`/`exec` in the foreground
// relay the pty to ch-run-oci's own terminal. Driven through real ptys
// (test/helpers/pty-driver.py) with a bound on every run, as root and as an
// unprivileged user without subuids.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXE, REPO, asArgv, chroci, defaultEnv, makeBundle, scratch, spawnCaptured, waitFor, type As } from '../helpers/runtime';

const RECEIVER = path.join(REPO, 'test/helpers/console-receiver.py');
const DRIVER = path.join(REPO, 'test/helpers/pty-driver.py');

interface Received {
  name: string;
  out: string;
}

/** A console socket at SOCK (run as `as`, so the runner may connect), which types `text` at the pty it gets. */
function receiver(as: As, sock: string, text: string): { done: Promise<Received>; child: ChildProcess } {
  const argv = asArgv(as, ['python3', RECEIVER, sock, text, '15'], defaultEnv(as));
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<Received>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out) as Received);
      } catch {
        reject(new Error(`console receiver: ${JSON.stringify(out)}`));
      }
    });
  });
  return { done, child };
}

type Step = { send: string } | { expect: string; within?: number } | { winsize: [number, number] } | { pause: number };

/** argv run on a pty of its own, typed at by `steps`; killed after `deadline` s. */
function drive(as: As, argv: string[], steps: Step[], deadline = 25): { out: string; status: number | null; hung: boolean } {
  const r = spawnCaptured(asArgv(as, ['python3', DRIVER, JSON.stringify(steps), String(deadline), ...argv], defaultEnv(as)), {
    timeout: (deadline + 10) * 1000,
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

/** The host's devpts (the caller's terminals): no fd of the container may be one of its files. */
function hostTtyFds(pid: number): string[] {
  const host = fs.statSync('/dev/pts/ptmx').dev;
  const dir = `/proc/${pid}/fd`;
  return fs.readdirSync(dir).filter((fd) => {
    try {
      return fs.statSync(path.join(dir, fd)).dev === host;
    } catch {
      return false;
    }
  });
}

const SHELL_PROMPT = /[#$] /;

describe.each<As>(['root', 'user'])('terminal as %s', (as) => {
  let root: string;
  let dir: string;
  let bundle: string;
  const rt = (...a: string[]) => chroci(['--root', root, ...a], { as });
  const uid = as === 'root' ? 1000 : 0;

  beforeAll(() => {
    root = scratch(as);
    dir = scratch(as);
    bundle = makeBundle(as, (c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 33, width: 101 };
      c.process.args = ['sh'];
      c.process.user = { uid, gid: uid };
    });
  });
  afterAll(() => {
    for (const id of ['cs1', 'cs2', 'bg', 'fg', 'fk']) rt('delete', '--force', id);
  });

  it("create --console-socket: the master arrives named /dev/ptmx; size, owner and the shell's status", async () => {
    const sock = path.join(dir, 'cs1.sock');
    const r = receiver(as, sock, 'stty size; stat -c owner=%u $(tty); tty; exit 3\n');
    await waitFor(() => fs.existsSync(sock));
    // Created from a terminal of the host's: none of its fds may reach the container.
    const created = drive(as, [EXE, '--root', root, 'create', '--bundle', bundle, '--console-socket', sock, 'cs1'], [], 15);
    expect(created).toMatchObject({ status: 0, hung: false });
    const pid = Number(JSON.parse(rt('state', 'cs1').stdout).pid);
    expect(hostTtyFds(pid)).toEqual([]);
    expect(rt('start', 'cs1').status).toBe(0);
    const got = await r.done;
    expect(got.name).toBe('/dev/ptmx');
    expect(got.out).toContain('33 101\r\n');
    expect(got.out).toContain(`owner=${uid}\r\n`);
    expect(got.out).toMatch(/\/dev\/pts\/\d+\r\n/);
    await waitFor(() => JSON.parse(rt('state', 'cs1').stdout).status === 'stopped');
    expect(rt('delete', 'cs1').status).toBe(0);
  });

  // One mapped id: uid 1000 is fake root's; the pty is the process's all the same.
  it.runIf(as === 'user')('fake root: the pty belongs to the ids the process has', async () => {
    const sock = path.join(dir, 'fake.sock');
    const r = receiver(as, sock, 'echo "ids=$(id -u):$(id -g) pty=$(stat -c %u:%g $(tty))"; exit 0\n');
    const fake = makeBundle(as, (c) => {
      c.process.terminal = true;
      c.process.args = ['sh'];
      c.process.user = { uid: 1000, gid: 1000 };
    });
    await waitFor(() => fs.existsSync(sock));
    expect(rt('run', '-d', '--bundle', fake, '--console-socket', sock, 'fk').status).toBe(0);
    expect((await r.done).out).toContain('ids=1000:1000 pty=1000:1000\r\n');
  });

  it('the slave is /dev/console and fds 0-2 of the container; nothing of the host tty', async () => {
    const sock = path.join(dir, 'cs2.sock');
    const r = receiver(
      as,
      sock,
      'for f in 0 1 2; do readlink /proc/$$/fd/$f; done; [ "$(stat -c %d:%i /dev/console)" = "$(stat -c %d:%i $(tty))" ] && echo console-ok; exit 0\n',
    );
    await waitFor(() => fs.existsSync(sock));
    expect(rt('run', '-d', '--bundle', bundle, '--console-socket', sock, 'cs2').status).toBe(0);
    const got = await r.done;
    expect(got.out).toContain('console-ok\r\n');
    expect(got.out).toMatch(/(\/dev\/pts\/\d+\r\n){3}/);
  });

  it('run in the foreground relays: typed input, window size, ^C to the process, the exit status', () => {
    const r = drive(
      as,
      [EXE, '--root', root, 'run', '--bundle', bundle, 'fg'],
      [
        { expect: uid === 0 ? '# ' : '$ ', within: 10 },
        { send: 'stty size\r' },
        { expect: '24 80' },
        { winsize: [50, 130] },
        { send: 'stty size\r' },
        { expect: '50 130' },
        // Typed after ^C, exit only reaches the shell once sleep is gone: within the deadline only if ^C killed it.
        { send: 'sleep 60\r' },
        { pause: 0.5 },
        { send: '\x03' },
        { send: 'echo after-$((6*7))\r' },
        { expect: 'after-42' },
        { send: 'exit 7\r' },
      ],
    );
    expect(r.hung).toBe(false);
    expect(r.status).toBe(7);
    expect(r.out).toContain('24 80\r\n');
    expect(r.out).toContain('50 130\r\n');
    expect(r.out).toContain('after-42\r\n');
    expect(r.out).toMatch(SHELL_PROMPT);
  });

  // A relay that blocks writing input the process is not reading yet stops
  // reading its output, which blocks the process: a deadlock (cat and a few
  // hundred KB of input were enough). Both directions must keep moving.
  it('the relay neither deadlocks nor loses output when the process echoes a flood of input', () => {
    const flood = makeBundle(as, (c) => {
      c.process.terminal = true;
      c.process.args = ['sh', '-c', 'cat; echo relay-done'];
    });
    const lines = 3000;
    const input = `${'a'.repeat(99)}\n`.repeat(lines) + '\x04';
    const r = chroci(['--root', root, 'run', '--bundle', flood, 'flood'], { as, input, timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('relay-done\r\n');
    // At least cat's copy of every byte (the pty's echo interleaves with it).
    expect(r.stdout.split('a').length - 1).toBeGreaterThanOrEqual(99 * lines);
  });

  it('exec -t in the foreground and exec -t -d --console-socket', async () => {
    const bg = makeBundle(as, (c) => {
      c.process.args = ['sleep', '1000'];
    });
    expect(rt('run', '-d', '--bundle', bg, 'bg').status).toBe(0);
    const fg = drive(as, [EXE, '--root', root, 'exec', '-t', 'bg', 'sh', '-c', 'stty size; [ -t 0 ] && echo tty-in; exit 4'], [], 15);
    expect(fg).toMatchObject({ status: 4, hung: false });
    expect(fg.out).toContain('24 80\r\ntty-in\r\n');

    const sock = path.join(dir, 'ex.sock');
    const r = receiver(as, sock, 'tty; echo typed-$((2+3)); exit 0\n');
    await waitFor(() => fs.existsSync(sock));
    const d = rt('exec', '-t', '-d', '--console-socket', sock, 'bg', 'sh');
    expect(d.stderr).toBe('');
    expect(d.status).toBe(0);
    const got = await r.done;
    expect(got.name).toBe('/dev/ptmx');
    expect(got.out).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(got.out).toContain('typed-5\r\n');

    // --process with terminal: true, as conmon sends it.
    const proc = path.join(dir, 'proc.json');
    fs.writeFileSync(
      proc,
      JSON.stringify({ terminal: true, cwd: '/', args: ['sh', '-c', '[ -t 1 ] && echo tty-out'], env: ['PATH=/bin'] }),
    );
    fs.chmodSync(proc, 0o644);
    const p = drive(as, [EXE, '--root', root, 'exec', '--process', proc, 'bg'], [], 15);
    expect(p).toMatchObject({ status: 0, hung: false });
    expect(p.out).toContain('tty-out\r\n');
  });

  it('needs the devpts of its own: without one on /dev/pts, create fails naming it and leaves nothing', async () => {
    const sock = path.join(dir, 'nodevpts.sock');
    const r = receiver(as, sock, '');
    const nodevpts = makeBundle(as, (c) => {
      c.process.terminal = true;
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/dev/pts');
    });
    await waitFor(() => fs.existsSync(sock));
    const c = rt('create', '--bundle', nodevpts, '--console-socket', sock, 'np');
    r.child.kill('SIGKILL');
    await r.done.catch(() => undefined); // it never got a master
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/^ch-run-oci: terminal: open \/dev\/pts\/ptmx \(the container needs a devpts on \/dev\/pts\): .+\n$/);
    expect(rt('state', 'np').status).toBe(1);
  });

  it("exec -t opens only a devpts's ptmx: a link or a file the container put there is refused", () => {
    const fakePts = makeBundle(as, (c) => {
      c.process.args = ['sleep', '1000'];
      c.mounts = c.mounts.map((m: { destination: string }) =>
        m.destination === '/dev/pts' ? { destination: '/dev/pts', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] } : m,
      );
    });
    expect(rt('run', '-d', '--bundle', fakePts, 'fp').status).toBe(0);
    try {
      expect(rt('exec', 'fp', 'ln', '-s', '/dev/null', '/dev/pts/ptmx').status).toBe(0);
      const link = rt('exec', '-t', 'fp', 'true');
      expect(link.status).toBe(1);
      expect(link.stderr).toMatch(/^ch-run-oci: terminal: open \/dev\/pts\/ptmx .*: too many levels of symbolic links\n$/);
      expect(rt('exec', 'fp', 'sh', '-c', 'rm /dev/pts/ptmx; echo x > /dev/pts/ptmx').status).toBe(0);
      const file = rt('exec', '-t', 'fp', 'true');
      expect(file.status).toBe(1);
      expect(file.stderr).toBe('ch-run-oci: terminal: /dev/pts/ptmx is not the ptmx of a devpts\n');
    } finally {
      rt('delete', '--force', 'fp');
    }
  });

  it("refuses with runc's wording what it cannot do", () => {
    const sock = path.join(dir, 'none.sock');
    expect(rt('create', '--bundle', bundle, 'x1')).toMatchObject({
      status: 1,
      stderr: 'ch-run-oci: cannot allocate tty if ch-run-oci will detach without setting console socket\n',
    });
    expect(rt('run', '--bundle', bundle, '--console-socket', sock, 'x1')).toMatchObject({
      status: 1,
      stderr: 'ch-run-oci: cannot use console socket if ch-run-oci will not detach or allocate tty\n',
    });
    expect(rt('exec', '-d', '--console-socket', sock, 'bg', 'true')).toMatchObject({
      status: 1,
      stderr: 'ch-run-oci: cannot use console socket if ch-run-oci will not detach or allocate tty\n',
    });
    const nobody = rt('create', '--bundle', bundle, '--console-socket', sock, 'x1');
    expect(nobody.status).toBe(1);
    expect(nobody.stderr).toBe(`ch-run-oci: console-socket: connect ${sock}: no such file or directory\n`);
    expect(rt('state', 'x1').status).toBe(1);
  });
});
