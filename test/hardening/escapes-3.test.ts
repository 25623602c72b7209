// The third security round, each a regression test that failed on the code
// before it (run with CH_RUN_OCI_EXE pointing at an older build to see): fds
// a caller left open (fd 40) never reach the container, --preserve-fds
// passes only fds the caller passed (not Node's own), --log refuses what is
// not a log file (a FIFO used to hang every verb), exec refuses a pid that
// names no container (state.json is the caller's to edit), cgroup records
// pointing at a hierarchy root, the caller's cgroup or another place are
// refused, and the container's read-only cgroup view cannot be remounted
// writable. As root and as a user without subuids where it applies.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXE, asArgv, chroci, defaultEnv, isAlive, makeBundle, spawnCaptured, testUser, waitFor, type As } from '../helpers/runtime';
import { hardenDir, ownedDir, rootLeftovers } from '../helpers/fuzz';
import { defaultName } from '../../src/cgroups/paths';

let work: string;
const made: string[] = [];
const SIDES: As[] = ['root', 'user'];
const kids: ChildProcess[] = [];

beforeAll(() => {
  work = hardenDir('esc3');
});

afterAll(() => {
  for (const k of kids) k.kill('SIGKILL');
  if (work) execFileSync('rm', ['-rf', work, ...made]);
});

const started: { root: string; id: string; as: As }[] = [];
const track = (root: string, id: string, as: As): void => void started.push({ root, id, as });
afterEach(() => {
  for (const c of started.splice(0)) chroci(['--root', c.root, 'delete', '--force', c.id], { as: c.as });
});

function setup(as: As, name: string, edit?: (c: any) => void): { bundle: string; root: string } {
  const bundle = makeBundle(as, edit);
  made.push(bundle);
  fs.chmodSync(bundle, 0o755);
  return { bundle, root: path.join(ownedDir(work, `${name}-${as}`, as), 'state') };
}

function oneLine(r: { status: number | null; stderr: string }, re?: RegExp): void {
  expect(r.stderr).toMatch(/^ch-run-oci: [^\n]+\n$/);
  if (re) expect(r.stderr).toMatch(re);
  expect(r.status).toBe(1);
}

/** `bash -c SCRIPT` as `as`; the script ends by exec'ing ch-run-oci ("$EXE"). */
function viaShell(as: As, script: string, timeout = 30_000) {
  return spawnCaptured(asArgv(as, ['bash', '--norc', '--noprofile', '-c', script], { ...defaultEnv(as), EXE }), { timeout });
}

const statePid = (root: string, id: string, as: As): number => JSON.parse(chroci(['--root', root, 'state', id], { as }).stdout).pid;

/** fd number → what it is, of a host pid. */
function fdsOf(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.set(Number(e), fs.readlinkSync(`/proc/${pid}/fd/${e}`));
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

const unique = (): string => String(100000 + crypto.randomInt(800000));

describe('fds the caller left open never reach the container', () => {
  for (const as of SIDES) {
    it(`fd 40 of the caller is not in a created or started container; the preserved fd 3 is (${as})`, async () => {
      const { bundle, root } = setup(as, 'fd40', (c) => {
        c.process.args = ['sleep', '1000'];
      });
      for (const [id, preserve] of [
        ['f0', 0],
        ['f1', 1],
      ] as const) {
        track(root, id, as);
        const r = viaShell(
          as,
          `exec 3</etc/hostname 40</etc/passwd; exec "$EXE" --root ${root} create --preserve-fds ${preserve} --bundle ${bundle} ${id} </dev/null`,
        );
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const pid = statePid(root, id, as);
        const fds = fdsOf(pid);
        // The created container waits on its fifo (an O_PATH fd the runner
        // opens); the user's (fake root) also holds the fake-root filter's
        // socket until execve (src/runner/seccomp.c). Nothing else is there.
        const extra = [...fds].filter(
          ([fd, what]) => fd > 2 + preserve && !what.endsWith('/exec.fifo') && !(as === 'user' && /^socket:/.test(what)),
        );
        expect(extra).toEqual([]);
        expect([...fds.values()]).not.toContain('/etc/passwd');
        if (preserve) expect(fds.get(3)).toBe('/etc/hostname');
        // Started: exactly stdio and the preserved fds.
        expect(chroci(['--root', root, 'start', id], { as }).status).toBe(0);
        await waitFor(() => fs.readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n');
        expect([...fdsOf(pid).keys()].sort((a, b) => a - b)).toEqual(preserve ? [0, 1, 2, 3] : [0, 1, 2]);
        expect(chroci(['--root', root, 'delete', '--force', id], { as }).status).toBe(0);
      }
      expect(rootLeftovers(root)).toEqual([]);
    });
  }
});

describe("--preserve-fds passes only the caller's fds", () => {
  for (const as of SIDES) {
    it(`one more than the caller passed is refused in one line, naming the fd (${as})`, () => {
      const { bundle, root } = setup(as, 'pfds');
      track(root, 'p', as);
      let r = viaShell(as, `exec 3</etc/hostname; exec "$EXE" --root ${root} create --preserve-fds 2 --bundle ${bundle} p </dev/null`);
      oneLine(r);
      expect(r.stderr).toBe("ch-run-oci: --preserve-fds 2: fd 4 is ch-run-oci's own, not one the caller passed (only fds 3-3 are)\n");
      r = viaShell(as, `exec "$EXE" --root ${root} run --preserve-fds 1 --bundle ${bundle} p </dev/null`);
      oneLine(r, /^ch-run-oci: --preserve-fds 1: fd 3 is ch-run-oci's own, not one the caller passed \(the caller passed none\)\n$/);
      expect(rootLeftovers(root)).toEqual([]);
      // Exactly what the caller passed is fine.
      r = viaShell(
        as,
        `exec 3</etc/hostname 4</etc/hostname; exec "$EXE" --root ${root} create --preserve-fds 2 --bundle ${bundle} p </dev/null`,
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const fds = fdsOf(statePid(root, 'p', as));
      expect([fds.get(3), fds.get(4)]).toEqual(['/etc/hostname', '/etc/hostname']);
    });
  }
});

describe('--log must be a log file', () => {
  for (const as of SIDES) {
    it(`a FIFO, a directory, a socket${as === 'root' ? ', a block device' : ''} are refused at once; a file and /dev/null are logs (${as})`, async () => {
      const dir = ownedDir(work, `log-${as}`, as);
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const sock = path.join(dir, 'sock');
      const server = net.createServer();
      await new Promise<void>((res) => server.listen(sock, res));
      const cases: [string, string][] = [
        [fifo, 'a FIFO'],
        [dir, 'a directory'],
        [sock, 'a socket'],
      ];
      if (as === 'root') {
        const blk = path.join(dir, 'blk');
        execFileSync('mknod', [blk, 'b', '7', '7']);
        cases.push([blk, 'a block device']);
      }
      if (as === 'user') execFileSync('chown', ['-R', `${testUser().uid}:${testUser().gid}`, dir]);
      try {
        for (const [file, kind] of cases) {
          for (const verb of [['state', 'x'], ['list']]) {
            const r = chroci(['--log', file, ...verb], { as, timeout: 10_000 });
            expect(r.error, `${kind} ${verb[0]}`).toBeUndefined(); // no timeout
            oneLine(r);
            expect(r.stderr).toBe(`ch-run-oci: --log ${JSON.stringify(file)}: is ${kind}, not a regular file\n`);
          }
        }
      } finally {
        server.close();
      }
      const log = path.join(dir, 'log');
      let r = chroci(['--log', log, 'state', 'x'], { as, timeout: 10_000 });
      oneLine(r, /container "x": does not exist/);
      expect(fs.readFileSync(log, 'utf8')).toMatch(/level=error msg="container \\"x\\": does not exist"/);
      r = chroci(['--log', '/dev/null', 'state', 'x'], { as, timeout: 10_000 });
      oneLine(r, /container "x": does not exist/);
    });
  }
});

describe('exec refuses a pid that names no container', () => {
  for (const as of SIDES) {
    it(`state.json edited to name a process of the caller: refused, nothing runs (${as})`, () => {
      const { bundle, root } = setup(as, 'execpid', (c) => {
        c.process.args = ['sleep', '1000'];
      });
      track(root, 'e', as);
      expect(chroci(['--root', root, 'run', '--detach', '--bundle', bundle, 'e'], { as }).status).toBe(0);
      const argv = asArgv(as, ['sleep', unique()], defaultEnv(as));
      const victim = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      kids.push(victim);
      const file = path.join(root, 'e', 'state.json');
      const orig = fs.readFileSync(file, 'utf8');
      const marker = path.join(ownedDir(work, `execpid-out-${as}`, as), 'ran');
      try {
        // The victim is the sleep itself (setpriv and env exec).
        const vpid = victim.pid!;
        execFileSync('bash', ['-c', `for i in $(seq 100); do grep -q '^sleep' /proc/${vpid}/comm && exit 0; sleep 0.05; done; exit 1`]);
        const start = fs.readFileSync(`/proc/${vpid}/stat`, 'utf8').split(') ')[1].split(' ')[22 - 3];
        for (const edit of [
          { pid: vpid, pidStartTime: start },
          { pid: vpid, pidStartTime: undefined },
        ]) {
          const rec = { ...JSON.parse(orig), ...edit };
          if (edit.pidStartTime === undefined) delete rec.pidStartTime;
          fs.writeFileSync(file, JSON.stringify(rec));
          const r = chroci(['--root', root, 'exec', 'e', 'touch', marker], { as });
          oneLine(r, new RegExp(`container process ${vpid}: is in our own user namespace: not a container`));
          expect(fs.existsSync(marker)).toBe(false);
        }
        // A recorded start time that is not the process's: a reused pid.
        fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(orig), pidStartTime: '1' }));
        oneLine(chroci(['--root', root, 'exec', 'e', 'touch', marker], { as }));
        expect(fs.existsSync(marker)).toBe(false);
      } finally {
        fs.writeFileSync(file, orig);
        victim.kill('SIGKILL');
      }
      expect(chroci(['--root', root, 'exec', 'e', 'true'], { as }).status).toBe(0);
    });
  }
});

/** A v1 hierarchy directory this host has (pids), or undefined. */
const PIDS = fs.existsSync('/sys/fs/cgroup/pids/cgroup.procs') ? '/sys/fs/cgroup/pids' : undefined;

describe('cgroup records in state.json are checked before they are used', () => {
  for (const as of SIDES) {
    it.skipIf(!PIDS)(
      `a hierarchy root, the caller's cgroup, another cgroup and a stray pending directory are refused (${as})`,
      async () => {
        const { bundle, root } = setup(as, 'cgrec', (c) => {
          c.process.args = ['sleep', '1000'];
        });
        track(root, 'g', as);
        expect(chroci(['--root', root, 'run', '--detach', '--bundle', bundle, 'g'], { as }).status).toBe(0);
        const file = path.join(root, 'g', 'state.json');
        const orig = fs.readFileSync(file, 'utf8');
        // Another cgroup with the default name of this container, holding a process of the caller.
        const victimDir = path.join(PIDS!, `chroci-victim-${unique()}`, defaultName('g', path.resolve(root)));
        fs.mkdirSync(victimDir, { recursive: true });
        const argv = asArgv(as, ['sleep', unique()], defaultEnv(as));
        const victim = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
        kids.push(victim);
        const empty = ownedDir(work, `cgrec-empty-${as}`, as);
        // A v1 hierarchy where the caller's cgroup is not the root (for "one of its parents").
        const nested = fs
          .readFileSync('/proc/self/cgroup', 'utf8')
          .split('\n')
          .map((l) => l.split(':'))
          .find((f) => f.length === 3 && /^[a-z]+$/.test(f[1]) && f[2] !== '/' && fs.existsSync(`/sys/fs/cgroup/${f[1]}${f[2]}`));
        const setRecord = (dirs: string[], pending?: string[], key = 'pids'): void => {
          const rec = JSON.parse(orig);
          rec.cgroup = { mode: 'v1', dirs: dirs.map((dir) => ({ key, controllers: [key], dir })), ...(pending ? { pending } : {}) };
          fs.writeFileSync(file, JSON.stringify(rec));
        };
        try {
          fs.writeFileSync(path.join(victimDir, 'cgroup.procs'), String(victim.pid));
          await waitFor(() => fs.readFileSync(path.join(victimDir, 'cgroup.procs'), 'utf8').trim() !== '');
          // ps reads only: safe to show on the code before the fix that it listed the whole hierarchy.
          setRecord([PIDS!]);
          oneLine(
            chroci(['--root', root, 'ps', '--format', 'json', 'g'], { as }),
            /cgroup record refused: "\/sys\/fs\/cgroup\/pids" is not strictly below/,
          );
          if (nested) {
            setRecord([path.join('/sys/fs/cgroup', nested[1], path.dirname(nested[2]))], undefined, nested[1]);
            oneLine(
              chroci(['--root', root, 'ps', 'g'], { as }),
              /cgroup record refused: .* is the caller's own cgroup or one of its parents/,
            );
          }
          setRecord([`${PIDS!}/../memory`]);
          oneLine(chroci(['--root', root, 'ps', 'g'], { as }), /cgroup record refused: .*not a clean absolute path/);
          // The verbs that act: nothing happens to the other cgroup or its process.
          setRecord([victimDir]);
          for (const v of [
            ['kill', '--all', 'g', 'KILL'],
            ['pause', 'g'],
            ['exec', 'g', 'true'],
            ['delete', '--force', 'g'],
          ]) {
            oneLine(
              chroci(['--root', root, ...v], { as }),
              /cgroup record refused: .*has the default name but is not where create puts it/,
            );
          }
          expect(isAlive(victim.pid!)).toBe(true);
          expect(fs.existsSync(victimDir)).toBe(true);
          setRecord([], [empty]);
          oneLine(
            chroci(['--root', root, 'delete', '--force', 'g'], { as }),
            /cgroup record refused: .* is in no mounted cgroup hierarchy/,
          );
          expect(fs.existsSync(empty)).toBe(true);
        } finally {
          fs.writeFileSync(file, orig);
          victim.kill('SIGKILL');
          await waitFor(() => !isAlive(victim.pid!));
          for (let i = 0; i < 100; i++) {
            try {
              fs.rmdirSync(victimDir);
              fs.rmdirSync(path.dirname(victimDir));
              break;
            } catch {
              await new Promise((r) => setTimeout(r, 20));
            }
          }
        }
        expect(chroci(['--root', root, 'delete', '--force', 'g'], { as }).status).toBe(0);
        expect(rootLeftovers(root)).toEqual([]);
      },
    );
  }
});

const V1 = fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(' - cgroup cgroup ');

describe("the container's read-only cgroup view stays read-only", () => {
  for (const as of SIDES) {
    it.skipIf(!V1)(`with CAP_SYS_ADMIN in its user namespace, remount rw fails (root) and no cgroup file can be written (${as})`, () => {
      const caps = ['CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE', 'CAP_CHOWN', 'CAP_FOWNER', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL'];
      const script = [
        'for d in /sys/fs/cgroup/*/; do',
        '  [ -L "${d%/}" ] && continue',
        '  mount -o remount,rw,bind "$d" 2>/dev/null && echo "remounted $d"',
        '  mount -o remount,rw "$d" 2>/dev/null && echo "remounted $d"',
        '  [ -e "$d/cgroup.procs" ] && (echo 0 > "$d/cgroup.procs") 2>/dev/null && echo "wrote $d"',
        'done',
        'echo done',
      ].join('\n');
      const { bundle, root } = setup(as, 'cgview', (c) => {
        for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set] = caps;
        c.mounts.push({
          destination: '/sys/fs/cgroup',
          type: 'cgroup',
          source: 'cgroup',
          options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
        });
        c.process.args = ['sh', '-c', script];
      });
      track(root, 'v', as);
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'v'], { as });
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines.filter((l) => l.startsWith('wrote'))).toEqual([]);
      // The user's view binds the caller's cgroups (files of root's): the kernel does not let it lock them; root's are.
      if (as === 'root') expect(lines).toEqual(['done']);
      else expect(lines[lines.length - 1]).toBe('done');
      expect(r.status).toBe(0);
    });
  }
});
