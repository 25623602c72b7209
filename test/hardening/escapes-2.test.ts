// The second security round, each a regression test that failed on the code
// before it (run with CH_RUN_OCI_EXE pointing at an older build to see):
// the exec helper and the set-up processes are not dumpable (a container with
// CAP_SYS_PTRACE cannot seize them), processes in nested user namespaces are
// found by ps, kill --all and delete, ps escapes control characters, a stopped
// helper cannot make exec wait forever, the fake-root supervisor's memory is
// bounded, and each container gets its own session keyring. As root and as a
// user without subuids. The static probe is test/helpers/attack-probe.c.
import { execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileC } from '../helpers/repo';
import {
  EXE,
  REPO,
  asArgv,
  chownTree,
  chroci,
  defaultEnv,
  isAlive,
  makeBundle,
  sleep,
  spawnCaptured,
  waitFor,
  type As,
} from '../helpers/runtime';
import { hardenDir, ownedDir, rootLeftovers } from '../helpers/fuzz';

let work: string;
let probe: string;
const made: string[] = [];
const SIDES: As[] = ['root', 'user'];

beforeAll(() => {
  work = hardenDir('esc2');
  probe = path.join(work, 'attack-probe');
  compileC(probe, [path.join(REPO, 'test/helpers/attack-probe.c')], { static: true });
  fs.chmodSync(probe, 0o755);
});

afterAll(() => {
  if (work) execFileSync('rm', ['-rf', work, ...made]);
});

// Containers a test started, deleted after it even when an assertion failed
// (an older build under test hangs or leaves more behind).
const started: { root: string; id: string; as: As }[] = [];
const track = (root: string, id: string, as: As): void => void started.push({ root, id, as });
afterEach(() => {
  for (const c of started.splice(0)) chroci(['--root', c.root, 'delete', '--force', c.id], { as: c.as });
});

const PTRACE_CAPS = ['CAP_SYS_PTRACE'];

/** A bundle for `as` with the probe (and busybox unshare) in it, its config edited, and a private state root. */
function setup(as: As, name: string, edit: (c: any) => void): { bundle: string; root: string } {
  const bundle = makeBundle(as, edit);
  made.push(bundle);
  fs.chmodSync(bundle, 0o755);
  const bin = path.join(bundle, 'rootfs', 'bin');
  fs.copyFileSync(probe, path.join(bin, 'probe'));
  fs.chmodSync(path.join(bin, 'probe'), 0o755);
  fs.symlinkSync('busybox', path.join(bin, 'unshare'));
  chownTree(bin, as);
  return { bundle, root: path.join(ownedDir(work, `${name}-${as}`, as), 'state') };
}

function addCaps(c: any, caps: string[]): void {
  for (const set of ['bounding', 'effective', 'permitted'])
    c.process.capabilities[set] = [...new Set([...c.process.capabilities[set], ...caps])];
}

function noPidns(c: any): void {
  c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
}

function oneLine(r: { status: number | null; stderr: string }, re?: RegExp): void {
  expect(r.stderr).toMatch(/^ch-run-oci: [^\n]+\n$/);
  if (re) expect(r.stderr).toMatch(re);
  expect(r.status).toBe(1);
}

/** Host pids whose command line is exactly ARGV. */
function pidsRunning(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8') === want && isAlive(Number(e))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Host pids in the pid namespace of PID, PID included. */
function pidnsMembers(pid: number): number[] {
  const ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readlinkSync(`/proc/${e}/ns/pid`) === ns && isAlive(Number(e))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** A PATH of thousands of missing directories: the runner's lookup of args[0] takes a while. */
const SLOW_PATH = 'PATH=' + Array.from({ length: 5000 }, (_, i) => `/nx${i}`).join(':') + ':/bin';
const unique = (): string => String(100000 + crypto.randomInt(800000));
const statePid = (root: string, id: string, as: As): number => JSON.parse(chroci(['--root', root, 'state', id], { as }).stdout).pid;

describe("the runtime's helpers cannot be ptraced by the container", () => {
  for (const as of SIDES) {
    it(`a container with CAP_SYS_PTRACE gets EPERM seizing the exec helper; exec still works (${as})`, async () => {
      const out = ownedDir(work, `seize-out-${as}`, as);
      const { bundle, root } = setup(as, 'seize', (c) => {
        addCaps(c, PTRACE_CAPS);
        c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['bind', 'rw'] });
        c.process.args = ['sh', '-c', 'probe seize-watch 120 >/out/log 2>&1'];
      });
      track(root, 'sz', as);
      expect(chroci(['--root', root, 'run', '--detach', '--bundle', bundle, 'sz'], { as }).status).toBe(0);
      await waitFor(() => fs.existsSync(path.join(out, 'log')));
      const results: number[] = [];
      for (let i = 0; i < 5; i++) {
        // The slow lookup keeps the helper (C2, in the container's pid namespace) there for a while.
        const r = chroci(['--root', root, 'exec', '--env', SLOW_PATH, '--cwd', '/', 'sz', 'echo', 'exec-ok'], { as, timeout: 60_000 });
        expect(r.stdout).toBe('exec-ok\n');
        results.push(r.status ?? -1);
      }
      const log = fs.readFileSync(path.join(out, 'log'), 'utf8');
      chroci(['--root', root, 'delete', '--force', 'sz'], { as });
      expect(log).not.toMatch(/SEIZED/);
      expect(log).toMatch(/^EPERM \d+ helper$/m);
      expect(results).toEqual([0, 0, 0, 0, 0]);
      expect(rootLeftovers(root)).toEqual([]);
    }, 180_000);
  }

  it("a created container's process (waiting for start) cannot be seized by an exec'd process (root)", () => {
    const { bundle, root } = setup('root', 'seize-created', (c) => {
      addCaps(c, PTRACE_CAPS);
      c.process.args = ['true'];
    });
    track(root, 'sc', 'root');
    expect(chroci(['--root', root, 'create', '--bundle', bundle, 'sc']).status).toBe(0);
    const r = chroci(['--root', root, 'exec', 'sc', 'probe', 'seize', '1']);
    chroci(['--root', root, 'delete', '--force', 'sc']);
    expect(r.stdout).toBe('seize=-1 EPERM\n');
  });

  it("a created container's process is not dumpable; the user can still run, see and delete it (user)", () => {
    const { bundle, root } = setup('user', 'nodump', (c) => {
      c.process.args = ['echo', 'started'];
    });
    track(root, 'nd', 'user');
    expect(chroci(['--root', root, 'create', '--bundle', bundle, 'nd'], { as: 'user' }).status).toBe(0);
    const pid = statePid(root, 'nd', 'user');
    // /proc/PID of a non-dumpable process belongs to root, not to the caller.
    expect(fs.statSync(`/proc/${pid}/environ`).uid).toBe(0);
    expect(JSON.parse(chroci(['--root', root, 'ps', '--format', 'json', 'nd'], { as: 'user' }).stdout)).toEqual([pid]);
    // exec needs the namespaces the user cannot open before start: one line.
    oneLine(chroci(['--root', root, 'exec', 'nd', 'true'], { as: 'user' }), /cannot open its namespaces.*started container/);
    expect(chroci(['--root', root, 'kill', 'nd', 'KILL'], { as: 'user' }).status).toBe(0);
    expect(chroci(['--root', root, 'delete', '--force', 'nd'], { as: 'user' }).status).toBe(0);
    expect(rootLeftovers(root)).toEqual([]);
  });
});

describe('processes in nested user namespaces belong to the container', () => {
  for (const as of SIDES) {
    for (const pidns of [true, false]) {
      it(`ps, kill --all and delete --force reach \`unshare -U\` children, and nothing else (${as}, ${pidns ? 'pid namespace' : 'no pid namespace'})`, async () => {
        const [a, outside, sibling] = [unique(), unique(), unique()];
        // One sleeper in a user namespace of its own, two more under a shell in another.
        const script = (n: string): string => `unshare -U sleep ${n} & unshare -U sh -c "sleep ${n}1 & sleep ${n}2" & sleep 1000`;
        const { bundle, root } = setup(as, `nested-${pidns}`, (c) => {
          c.process.args = ['sh', '-c', script(a)];
          if (!pidns) noPidns(c);
        });
        const rt = (...args: string[]) => chroci(['--root', root, ...args], { as });
        // A process of the same side in a user namespace of its own, outside any container.
        const hostArgv = asArgv(as, ['unshare', '-U', 'sleep', outside], defaultEnv(as));
        const host = spawn(hostArgv[0], hostArgv.slice(1), { stdio: 'ignore' });
        try {
          track(root, 'k', as);
          expect(rt('run', '--detach', '--bundle', bundle, 'k').status).toBe(0);
          // A sibling container with nested processes of its own.
          const sib = setup(as, `nested-sib-${pidns}`, (c) => {
            c.process.args = ['sh', '-c', script(sibling)];
            if (!pidns) noPidns(c);
          });
          track(sib.root, 's', as);
          expect(chroci(['--root', sib.root, 'run', '--detach', '--bundle', sib.bundle, 's'], { as }).status).toBe(0);
          const nested = (n: string): number[] => [
            ...pidsRunning(['sleep', n]),
            ...pidsRunning(['sleep', `${n}1`]),
            ...pidsRunning(['sleep', `${n}2`]),
          ];
          await waitFor(
            () => nested(a).length === 3 && nested(sibling).length === 3 && pidsRunning(['sleep', outside]).length === 1,
            10_000,
          );
          const ps = JSON.parse(rt('ps', '--format', 'json', 'k').stdout) as number[];
          for (const p of nested(a)) expect(ps).toContain(p);
          for (const p of nested(sibling)) expect(ps).not.toContain(p);

          // kill --all: every nested sleeper gets TERM (and dies of it).
          expect(rt('kill', '--all', 'k', 'TERM').status).toBe(0);
          await waitFor(() => nested(a).length === 0, 5_000).catch(() => undefined);
          expect(nested(a)).toEqual([]);
          // With a pid namespace the init (its pid 1) ignores TERM; delete --force takes it.
          expect(rt('delete', '--force', 'k').status).toBe(0);

          // delete --force on a fresh container whose nested processes were never signalled.
          track(root, 'd', as);
          expect(rt('run', '--detach', '--bundle', bundle, 'd').status).toBe(0);
          await waitFor(() => nested(a).length === 3, 10_000);
          const victims = nested(a);
          expect(rt('delete', '--force', 'd').status).toBe(0);
          expect(victims.filter(isAlive)).toEqual([]);

          // Nothing outside was touched.
          expect(nested(sibling).length).toBe(3);
          expect(pidsRunning(['sleep', outside]).length).toBe(1);
          expect(chroci(['--root', sib.root, 'delete', '--force', 's'], { as }).status).toBe(0);
          expect(nested(sibling)).toEqual([]);
        } finally {
          host.kill('SIGKILL');
          rt('delete', '--force', 'k');
          rt('delete', '--force', 'd');
        }
        expect(rootLeftovers(root)).toEqual([]);
      }, 120_000);
    }
  }
});

describe('ps prints command lines it cannot be fooled by', () => {
  for (const as of SIDES) {
    it(`newlines and escape sequences in argv become "?" (${as})`, () => {
      const forged = 'x\n1           /usr/sbin/sshd -D\u001b]0;owned\u0007\u001b[2J\r\u202e\u2028';
      const { bundle, root } = setup(as, 'ps', (c) => {
        c.process.args = ['sh', '-c', 'sleep 1000; true', forged];
      });
      track(root, 'p', as);
      expect(chroci(['--root', root, 'run', '--detach', '--bundle', bundle, 'p'], { as }).status).toBe(0);
      const r = chroci(['--root', root, 'ps', 'p'], { as });
      chroci(['--root', root, 'delete', '--force', 'p'], { as });
      const lines = r.stdout.split('\n').filter(Boolean);
      expect(lines[0]).toMatch(/^PID\s+CMD$/);
      // One row per process (sh and its sleep), none forged, no control character at all.
      expect(lines.length).toBe(3);
      // eslint-disable-next-line no-control-regex -- control characters are what this looks for
      expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e\u2028]/);
      expect(lines.some((l) => l.includes('sh -c sleep 1000; true x?1           /usr/sbin/sshd -D?]0;owned??[2J???'))).toBe(true);
    });
  }
});

describe('exec does not wait forever for a stopped helper', () => {
  for (const as of SIDES) {
    it(`a container that SIGSTOPs every new process: exec fails in bounded time, one line, nothing left (${as})`, async () => {
      const { bundle, root } = setup(as, 'stop', (c) => {
        c.process.args = ['probe', 'stopper'];
      });
      track(root, 'st', as);
      expect(chroci(['--root', root, 'run', '--detach', '--bundle', bundle, 'st'], { as }).status).toBe(0);
      const init = statePid(root, 'st', as);
      const t0 = Date.now();
      const env = { ...defaultEnv(as), CH_RUN_OCI_REPORT_TIMEOUT: '2' };
      const r = chroci(['--root', root, 'exec', '--env', SLOW_PATH, '--cwd', '/', 'st', 'echo', 'never'], { as, env, timeout: 20_000 });
      const ms = Date.now() - t0;
      oneLine(r, /exec: the runner did not report within 2 s .*it was killed/);
      expect(r.stdout).toBe('');
      expect(ms).toBeLessThan(10_000);
      // The stopped helper is gone: only the init is left in the container's pid namespace.
      await waitFor(() => pidnsMembers(init).length === 1, 5_000).catch(() => undefined);
      expect(pidnsMembers(init)).toEqual([init]);
      expect(chroci(['--root', root, 'delete', '--force', 'st'], { as }).status).toBe(0);
      expect(rootLeftovers(root)).toEqual([]);
    }, 60_000);
  }
});

/** Supervisors (comm chroci-fakeroot) whose cwd is DIR: they keep the runtime's. */
function supervisorsIn(dir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/comm`, 'utf8') === 'chroci-fakeroot\n' && fs.readlinkSync(`/proc/${e}/cwd`) === dir)
        out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

function vmRssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : -1;
}

describe('the fake-root supervisor keeps bounded memory', () => {
  for (const as of SIDES) {
    for (const lists of ['same', 'distinct']) {
      it(`400 processes calling setgroups(65536) with ${lists} lists (${as})`, async () => {
        const { bundle, root } = setup(as, `groups-${lists}`, (c) => {
          c.process.args = ['probe', 'groups', '400', lists];
          // Root maps every id, so fake root is asked for; a user gets it anyway (single id).
          c.annotations = { ...(c.annotations ?? {}), 'ch-run-oci.fakeroot': 'always' };
        });
        const cwd = ownedDir(work, `groups-cwd-${lists}-${as}`, as);
        const argv = asArgv(as, [EXE, '--root', root, 'run', '--bundle', bundle, 'g'], defaultEnv(as));
        const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (d: string) => (out += d));
        const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
        try {
          await waitFor(() => /ok=\d+/.test(out), 60_000);
          const sup = supervisorsIn(cwd);
          expect(sup.length).toBe(1);
          const rss = vmRssKiB(sup[0]);
          child.stdin.end('\n');
          expect(await exited).toBe(0);
          const m = /ok=(\d+) enomem=(\d+) other=(\d+)/.exec(out)!;
          const [ok, enomem, other] = m.slice(1).map(Number);
          if (lists === 'same') expect([ok, enomem]).toEqual([400, 0]);
          else {
            // The first lists fit the budget, the rest get ENOMEM; nothing else fails.
            expect(ok).toBeGreaterThan(0);
            expect(ok + enomem).toBe(400);
          }
          expect(other).toBe(0);
          expect(out).toMatch(/small-list=ok/);
          // 400 x 256 KiB would be 100 MiB; the budget is 4 MiB.
          expect(rss).toBeLessThan(12 * 1024);
          process.stdout.write(
            `FIGURE fake-root supervisor, 400 x setgroups(65536) ${lists} lists (${as}): VmRSS ${rss} KiB, ${ok} accepted, ${enomem} ENOMEM\n`,
          );
        } finally {
          child.kill('SIGKILL');
          chroci(['--root', root, 'delete', '--force', 'g'], { as });
        }
      }, 120_000);
    }
  }
});

/** Lines a child writes to stdout, awaited one pattern at a time. */
function lineReader(stream: NodeJS.ReadableStream): (re: RegExp, ms?: number) => Promise<RegExpExecArray> {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => (text += d));
  return async (re, ms = 15_000) => {
    let m: RegExpExecArray | null = null;
    await waitFor(() => (m = re.exec(text)) !== null, ms);
    text = text.slice(m!.index + m![0].length);
    return m!;
  };
}

describe('the fake-root supervisor never writes into a reused pid', () => {
  for (const as of SIDES) {
    it(`a caller killed while its answer is being written, its pid taken by another process: that one is untouched (${as})`, async () => {
      const { bundle, root } = setup(as, 'reuse', (c) => {
        noPidns(c); // the supervisor's pids are the host's: a host process can take the pid over
        c.annotations = { ...(c.annotations ?? {}), 'ch-run-oci.fakeroot': 'always' };
        c.process.args = [
          'sh',
          '-c',
          'while read cmd; do case $cmd in go) probe reuse-target & echo "target=$!";; kill) kill -9 $!; wait; echo dead;; end) exit 0;; esac; done',
        ];
      });
      const cwd = ownedDir(work, `reuse-cwd-${as}`, as);
      const argv = asArgv(as, [EXE, '--root', root, 'run', '--bundle', bundle, 'r'], defaultEnv(as));
      const run = spawn(argv[0], argv.slice(1), { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
      const runExited = new Promise((r) => run.on('exit', r));
      run.stdin.on('error', () => {});
      const runLine = lineReader(run.stdout);
      let strace: ReturnType<typeof spawn> | undefined;
      const outcomes: string[] = [];
      try {
        await waitFor(() => supervisorsIn(cwd).length === 1, 15_000);
        const sup = supervisorsIn(cwd)[0];
        // Every write the supervisor makes into a caller waits 3 s at its start.
        strace = spawn(
          'strace',
          [
            '-qq',
            '-p',
            String(sup),
            '-e',
            'trace=pwrite64,process_vm_writev',
            '-e',
            'inject=pwrite64,process_vm_writev:delay_enter=3000000',
            '-o',
            '/dev/null',
          ],
          { stdio: 'ignore' },
        );
        await waitFor(() => /^TracerPid:\s+[1-9]/m.test(fs.readFileSync(`/proc/${sup}/status`, 'utf8')), 10_000);
        for (let attempt = 0; attempt < 8 && outcomes.length === 0; attempt++) {
          run.stdin.write('go\n');
          const target = Number((await runLine(/target=(\d+)\n/))[1]);
          await sleep(700); // getresuid is waiting; the supervisor is in its delayed write
          run.stdin.write('kill\n');
          await runLine(/dead\n/);
          // The next pid the kernel hands out is the dead caller's (asArgv forks
          // getent: before, not in between).
          const vArgv = asArgv(as, [probe, 'reuse-victim'], defaultEnv(as));
          fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(target - 1));
          const victim = spawn(vArgv[0], vArgv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
          const vLine = lineReader(victim.stdout);
          const pid = Number((await vLine(/pid=(\d+)\n/))[1]);
          const verdict = (await vLine(/(intact|corrupted)\n/, 15_000))[1];
          if (pid === target) outcomes.push(verdict); // else another process took the pid first: again
        }
      } finally {
        strace?.kill('SIGINT');
        run.stdin.end('end\n');
        await runExited;
        chroci(['--root', root, 'delete', '--force', 'r'], { as });
      }
      expect(outcomes).toEqual(['intact']);
    }, 180_000);
  }
});

describe('each container has its own session keyring', () => {
  for (const as of SIDES) {
    it(`a key in the caller's session keyring is not visible inside, unless --no-new-keyring (${as})`, () => {
      const secret = `chroci-secret-${unique()}`;
      const { bundle, root } = setup(as, 'keyring', (c) => {
        c.process.args = ['sh', '-c', 'probe keyput inner >/dev/null; probe keyprobe "$0"; sleep 1000', secret];
      });
      // The caller: a fresh session keyring holding the secret, then ch-run-oci.
      const under = (args: string[], env = defaultEnv(as)) => {
        const argv = asArgv(as, [probe, 'keyadd', secret, '--', EXE, '--root', root, ...args], env);
        return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
      };
      const out = path.join(work, `keyring-out-${as}`);
      track(root, 'kr', as);
      for (const [flags, inside] of [
        [[], 'absent ENOKEY'],
        [['--no-new-keyring'], 'found'],
      ] as [string[], string][]) {
        const fd = fs.openSync(out, 'w');
        const argv = asArgv(
          as,
          [probe, 'keyadd', secret, '--', EXE, '--root', root, 'run', '--detach', ...flags, '--bundle', bundle, 'kr'],
          defaultEnv(as),
        );
        execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', fd, 'inherit'], timeout: 30_000 });
        fs.closeSync(fd);
        const init = (): string => fs.readFileSync(out, 'utf8');
        execFileSync('sh', ['-c', `for i in $(seq 100); do grep -q . ${out} && exit 0; sleep 0.05; done`]);
        expect(init().trim(), `init with ${flags.join(' ') || 'defaults'}`).toBe(inside);
        // exec joins the container's keyring: its key, not the exec caller's.
        const ex = under(['exec', 'kr', 'sh', '-c', `probe keyprobe ${secret}; probe keyprobe inner`]);
        expect(ex.split('\n').filter(Boolean), `exec with ${flags.join(' ') || 'defaults'}`).toEqual(
          flags.length ? ['found', 'absent ENOKEY'] : ['absent ENOKEY', 'found'],
        );
        expect(chroci(['--root', root, 'delete', '--force', 'kr'], { as }).status).toBe(0);
      }
      expect(rootLeftovers(root)).toEqual([]);
    });
  }
});

describe('the state root in the shared /tmp (informational)', () => {
  it('one planted by someone else is refused with what happened and the way out', () => {
    // As nobody: the test user's own /tmp root may be in use by other tests.
    const nobody = 65534;
    const planted = `/tmp/ch-run-oci-${nobody}`;
    fs.rmSync(planted, { recursive: true, force: true });
    fs.mkdirSync(planted, { mode: 0o700 }); // root's, not nobody's
    try {
      const r = spawnCaptured([
        'setpriv',
        `--reuid=${nobody}`,
        `--regid=${nobody}`,
        '--clear-groups',
        '--',
        'env',
        '-i',
        'PATH=/usr/bin:/bin',
        EXE,
        'list',
      ]);
      oneLine(r, /owned by uid 0, not by uid 65534 \(made by someone else in the shared \/tmp.*XDG_RUNTIME_DIR.*--root DIR/);
    } finally {
      fs.rmdirSync(planted);
    }
  });
});
