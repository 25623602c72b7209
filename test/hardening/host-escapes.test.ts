// Ways out to the host that the first hardening rounds missed, each a
// regression test that failed on the runtime before the fix (the escapes
// issue): the cwd through a leaked fd (cf. runc CVE-2024-21626), a rootfs
// whose symlinks move /proc (and so every mask) elsewhere, a read-only bind
// made writable by swapping directories during create, a pid file written
// through a planted symlink, configs too large to exec, and device nodes
// reached through the rootfs or a bind.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileC } from '../helpers/repo';
import { EXE, REPO, asArgv, chroci, chownTree, defaultEnv, makeBundle, spawnCaptured, type As } from '../helpers/runtime';
import { figure, hardenDir, ownedDir, rootLeftovers } from '../helpers/fuzz';

let work: string;
let exchanger: string;
const made: string[] = [];
const SIDES: As[] = ['root', 'user'];

beforeAll(() => {
  work = hardenDir('host');
  exchanger = path.join(work, 'exchanger');
  compileC(exchanger, [path.join(REPO, 'test', 'helpers', 'exchanger.c')]);
});

afterAll(() => {
  if (work) execFileSync('rm', ['-rf', work, ...made]);
});

function setup(as: As, name: string, edit: (c: any) => void): { bundle: string; root: string; rootfs: string } {
  const bundle = makeBundle(as, edit);
  made.push(bundle);
  fs.chmodSync(bundle, 0o755);
  return { bundle, root: path.join(ownedDir(work, `${name}-${as}`, as), 'state'), rootfs: path.join(bundle, 'rootfs') };
}

function oneLine(r: { status: number | null; stderr: string }, re?: RegExp): void {
  expect(r.stderr).toMatch(/^ch-run-oci: [^\n]+\n$/);
  if (re) expect(r.stderr).toMatch(re);
  expect(r.status).toBe(1);
}

/** Every file named `name` under `dir` (not following symlinks). */
function find(dir: string, name: string): string[] {
  try {
    return execFileSync('find', [dir, '-xdev', '-name', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const LEAKED_CWDS = [
  '/proc/self/fd/3',
  '/proc/self/fd/4',
  '/proc/self/fd/5',
  '/proc/self/fd/6',
  '/proc/self/fd/7',
  '/proc/thread-self/fd/3',
  '/proc/1/fd/4',
];

describe('the cwd never leads through a leaked fd to the host (cf. CVE-2024-21626)', () => {
  for (const as of SIDES) {
    it(`process.cwd = /proc/self/fd/N: refused in one line, nothing written outside the rootfs (${as})`, () => {
      const outcomes: string[] = [];
      for (const cwd of LEAKED_CWDS) {
        const { bundle, root, rootfs } = setup(as, 'cwd', (c) => {
          c.process.cwd = cwd;
          c.process.args = ['sh', '-c', 'touch ./ESCAPE-MARKER 2>/dev/null; pwd -P'];
        });
        const r = chroci(['--root', root, 'run', '--bundle', bundle, 'cwd'], { as });
        const outside = find(work, 'ESCAPE-MARKER')
          .concat(find(path.dirname(root), 'ESCAPE-MARKER'))
          .filter((f) => !f.startsWith(rootfs));
        expect(outside, `${cwd}: ${r.stdout}${r.stderr}`).toEqual([]);
        if (r.status !== 0) oneLine(r, /process\.cwd|cwd/);
        outcomes.push(`${cwd}: ${r.status === 0 ? r.stdout.trim() : 'refused'}`);
        expect(rootLeftovers(root)).toEqual([]);
      }
      expect(
        outcomes.every((o) => o.endsWith('refused')),
        outcomes.join('\n'),
      ).toBe(true);
    });

    it(`exec --cwd /proc/self/fd/N is refused the same way (${as})`, () => {
      const { bundle, root } = setup(as, 'exec-cwd', (c) => {
        c.process.args = ['sleep', '60'];
      });
      expect(chroci(['--root', root, 'create', '--bundle', bundle, 'x'], { as }).status).toBe(0);
      expect(chroci(['--root', root, 'start', 'x'], { as }).status).toBe(0);
      try {
        for (const cwd of LEAKED_CWDS.slice(0, 5)) {
          const r = chroci(['--root', root, 'exec', '--cwd', cwd, 'x', 'sh', '-c', 'touch ./ESCAPE-MARKER; pwd -P'], { as });
          expect(find(path.dirname(root), 'ESCAPE-MARKER'), `${cwd}: ${r.stdout}${r.stderr}`).toEqual([]);
          oneLine(r, /process\.cwd/);
        }
      } finally {
        chroci(['--root', root, 'delete', '--force', 'x'], { as });
      }
    });
  }
});

describe('kernel file systems mount only on real directories reached without symlinks', () => {
  for (const as of SIDES) {
    it(`a rootfs whose /proc leads elsewhere through symlinks is refused, so no mask can be skipped (${as})`, () => {
      // /proc -> /dev/x, /dev/x -> /procreal: the /dev tmpfs then hides x,
      // and every maskedPaths/readonlyPaths entry under /proc would miss.
      const { bundle, root, rootfs } = setup(as, 'procredir', (c) => {
        c.process.args = [
          'sh',
          '-c',
          'test -w /procreal/sys/kernel/core_pattern && echo WRITABLE; cat /procreal/kcore | head -c 1 | wc -c',
        ];
      });
      fs.rmSync(path.join(rootfs, 'proc'), { recursive: true });
      fs.symlinkSync('/dev/x', path.join(rootfs, 'proc'));
      fs.symlinkSync('/procreal', path.join(rootfs, 'dev', 'x'));
      fs.mkdirSync(path.join(rootfs, 'procreal'));
      chownTree(rootfs, as);
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'p'], { as });
      expect(r.stdout).not.toContain('WRITABLE');
      oneLine(r, /mount: \/proc: a kernel file system is mounted only on a real directory/);
      expect(rootLeftovers(root)).toEqual([]);
    });

    it(`/sys and /dev/pts through a symlink are refused too (${as})`, () => {
      for (const [link, target, want] of [
        ['sys', '/sysreal', /mount: \/sys: a kernel file system/],
        ['dev', '/devreal', /mount: \/dev\/pts: a kernel file system/],
      ] as const) {
        const { bundle, root, rootfs } = setup(as, `redir-${link}`, (c) => {
          c.process.args = ['true'];
        });
        fs.rmSync(path.join(rootfs, link), { recursive: true });
        fs.mkdirSync(path.join(rootfs, target));
        fs.symlinkSync(target, path.join(rootfs, link));
        chownTree(rootfs, as);
        oneLine(chroci(['--root', root, 'run', '--bundle', bundle, 'r'], { as }), want);
        expect(rootLeftovers(root)).toEqual([]);
      }
    });

    it(`masks and read-only paths under /proc and /sys hold (${as})`, () => {
      const { bundle, root } = setup(as, 'masks', (c) => {
        c.process.args = ['sh', '-c', "wc -c < /proc/timer_list; grep -c ' /proc/sys ro,' /proc/self/mountinfo; ls /proc/acpi | wc -l"];
        c.linux.maskedPaths = ['/proc/timer_list', '/proc/acpi', '/proc/does-not-exist'];
        c.linux.readonlyPaths = ['/proc/sys'];
      });
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'm'], { as });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split(/\s+/)).toEqual(['0', '1', '0']);
    });
  }
});

describe('read-only binds cannot be made writable by swapping directories during create', () => {
  for (const as of SIDES) {
    it(`RENAME_EXCHANGE of a read-only bind's parent with a writable bind's, 40 creates (${as})`, async () => {
      // Before the fix the runner re-resolved the destination by path to make
      // it read-only: swapped meanwhile, the path led to the writable bind,
      // which became read-only instead, and the read-only one stayed writable.
      const ro = ownedDir(work, `ro-src-${as}`, as);
      const rw = ownedDir(work, `rw-src-${as}`, as);
      fs.chmodSync(ro, 0o777);
      fs.chmodSync(rw, 0o777);
      const { bundle, root, rootfs } = setup(as, 'rorace', (c) => {
        c.mounts.push({ destination: '/b/m', type: 'bind', source: rw, options: ['rbind', 'rw'] });
        c.mounts.push({ destination: '/a/m', type: 'bind', source: ro, options: ['rbind', 'ro'] });
        c.process.args = ['sh', '-c', 'touch /a/m/W /b/m/W 2>/dev/null; true'];
      });
      for (const d of ['a/m', 'b/m']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
      chownTree(rootfs, as);
      const flip = asArgv(as, [exchanger, path.join(rootfs, 'a'), path.join(rootfs, 'b')], defaultEnv(as));
      const flipper = spawn(flip[0], flip.slice(1), { stdio: 'ignore' });
      let ran = 0;
      try {
        for (let i = 0; i < 40; i++) {
          // Let the worker's event loop breathe between the synchronous runs (vitest's RPC).
          await new Promise((res) => setImmediate(res));
          const r = chroci(['--root', root, 'run', '--bundle', bundle, `ro${i}`], { as });
          if (r.status === 0) ran++;
          else oneLine(r);
          expect(fs.readdirSync(ro), `try ${i}: the read-only bind was writable`).toEqual([]);
        }
      } finally {
        flipper.kill('SIGKILL');
      }
      expect(rootLeftovers(root)).toEqual([]);
      figure(`read-only bind vs RENAME_EXCHANGE (${as})`, 40, 40, `${ran} ran, the read-only source never written`);
    }, 120_000);
  }
});

describe('files written outside the state root', () => {
  for (const as of SIDES) {
    it(`--pid-file is never written through a symlink planted at a predictable name (${as})`, () => {
      // A directory others may write (sticky, like /tmp), a victim file of the caller's.
      const dir = path.join(work, `pidfiles-${as}`);
      fs.mkdirSync(dir, { mode: 0o1777 });
      fs.chmodSync(dir, 0o1777);
      const victim = ownedDir(work, `victim-${as}`, as);
      const file = path.join(victim, 'precious');
      fs.writeFileSync(file, 'precious\n');
      chownTree(victim, as);
      const { bundle, root } = setup(as, 'pidfile', (c) => {
        c.process.args = ['true'];
      });
      const pidFile = path.join(dir, 'pid');
      // The attacker knows the runtime's pid here: it is the shell that execs it.
      const plant = `ln -s ${file} ${dir}/.pid.$$.tmp; ln -s ${file} ${dir}/.pid.$$.1.tmp; exec ${EXE} --root ${root} create --bundle ${bundle} --pid-file ${pidFile} pf`;
      const r = spawnCaptured(asArgv(as, ['sh', '-c', plant], defaultEnv(as)));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(fs.readFileSync(file, 'utf8')).toBe('precious\n');
      expect(fs.lstatSync(pidFile).isFile()).toBe(true);
      expect(Number(fs.readFileSync(pidFile, 'utf8'))).toBeGreaterThan(1);
      expect(chroci(['--root', root, 'delete', '--force', 'pf'], { as }).status).toBe(0);
    });
  }
});

describe('configs too large to exec', () => {
  for (const as of SIDES) {
    it(`200,000 env entries or a 200 KiB argument: one line naming the field and the limit (${as})`, () => {
      const cases: [(c: any) => void, RegExp][] = [
        [
          (c) => (c.process.env = Array.from({ length: 200_000 }, (_, i) => `V${i}=${'x'.repeat(20)}`)),
          /^ch-run-oci: process\.env: .*execve takes at most \d+/,
        ],
        [
          (c) => (c.process.args = ['echo', 'x'.repeat(200 * 1024)]),
          /^ch-run-oci: process\.args\[1\]: 204800 bytes, more than the kernel's limit of 131071/,
        ],
      ];
      for (const [edit, want] of cases) {
        const { bundle, root } = setup(as, 'huge', edit);
        const r = chroci(['--root', root, 'run', '--bundle', bundle, 'h'], { as, timeout: 60_000 });
        oneLine(r, want);
        expect(rootLeftovers(root)).toEqual([]);
        fs.rmSync(bundle, { recursive: true, force: true });
      }
    });

    it(`100,000 small env entries fit and run (${as})`, () => {
      const { bundle, root } = setup(as, 'many', (c) => {
        c.process.env = ['PATH=/bin', ...Array.from({ length: 100_000 }, (_, i) => `V${i}=1`)];
        c.process.args = ['env'];
      });
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'm'], { as, timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n').filter((l) => l.startsWith('V')).length).toBe(100_000);
    });
  }
});

describe('device nodes are usable only when the config allows them', () => {
  const probe = 'for f in /xzero /hostdev/zero /dev/zero /myzero; do if head -c1 $f >/dev/null 2>&1; then echo open:$f; fi; done';
  for (const as of SIDES) {
    it(`a node in the rootfs or under a bind of /dev opens only when every device is allowed; a bound node opens (${as})`, () => {
      const outcome = (edit: (c: any) => void): string[] => {
        const { bundle, root, rootfs } = setup(as, 'dev', (c) => {
          c.mounts.push({ destination: '/hostdev', type: 'bind', source: '/dev', options: ['rbind'] });
          c.process.args = ['sh', '-c', probe];
          edit(c);
        });
        // Only root can make a device node in an image (root podman keeps them from layers).
        if (as === 'root') execFileSync('mknod', [path.join(rootfs, 'xzero'), 'c', '1', '5']);
        const r = chroci(['--root', root, 'run', '--bundle', bundle, 'd'], { as });
        expect(r.stderr).toBe('');
        fs.rmSync(bundle, { recursive: true, force: true });
        return r.stdout.trim().split('\n');
      };
      // Default (no rules, i.e. deny): only the standard devices the runtime binds.
      expect(outcome(() => {})).toEqual(['open:/dev/zero']);
      expect(outcome((c) => (c.linux.resources = { devices: [{ allow: false, access: 'rwm' }] }))).toEqual(['open:/dev/zero']);
      // One node bound on its own (rootless podman --device): that one opens, the rest stays closed.
      expect(
        outcome((c) => {
          c.mounts.push({ destination: '/myzero', type: 'bind', source: '/dev/zero', options: ['bind'] });
        }),
      ).toEqual(['open:/dev/zero', 'open:/myzero']);
      // Every device allowed (podman --privileged): as before.
      const all = outcome((c) => (c.linux.resources = { devices: [{ allow: true, access: 'rwm' }] }));
      expect(all).toEqual(
        as === 'root' ? ['open:/xzero', 'open:/hostdev/zero', 'open:/dev/zero'] : ['open:/hostdev/zero', 'open:/dev/zero'],
      );
    });
  }

  it('a linux.devices entry is bound from the host node of that number and opens', () => {
    const { bundle, root } = setup('root', 'devswap', (c) => {
      c.linux.devices = [{ type: 'c', path: '/dev/xfull', major: 1, minor: 7 }];
      c.process.args = ['sh', '-c', 'head -c1 /dev/xfull | wc -c'];
    });
    const r = chroci(['--root', root, 'run', '--bundle', bundle, 'ds']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1');
  });
});
