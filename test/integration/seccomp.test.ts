// linux.seccomp, end to end: the built executable and crun (the control) run
// the same bundle, with a static probe making raw syscalls
// (test/helpers/syscall-probe.c), as root and as the unprivileged user
// without subuids (where the fake-root filter is installed under the profile).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProbe, clientProfile, probeBundle, runBundle, RUNTIMES, type Runtime } from '../helpers/control';
import { chroci, scratch, type As } from '../helpers/runtime';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-seccomp-'));
let probe: string;
beforeAll(() => {
  probe = buildProbe(tmp);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const USERS: As[] = ['root', 'user'];

function run(runtime: Runtime, as: As, script: string, seccomp: unknown, edit: (c: any) => void = () => {}) {
  const r = runBundle(
    runtime,
    as,
    probeBundle(as, probe, script, (c) => {
      c.linux.seccomp = seccomp;
      edit(c);
    }),
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Successful results differ from run to run (pids, key ids): only success is compared. */
const outcome = (stdout: string) => stdout.replace(/^(\w+)=\d+$/gm, '$1=ok');

/** The same run under both runtimes; expects equal outcomes and status, returns ours. */
function both(as: As, script: string, seccomp: unknown, edit?: (c: any) => void) {
  const [ours, crun] = RUNTIMES.map((rt) => run(rt, as, script, seccomp, edit));
  expect(outcome(ours.stdout), `ch-run-oci stderr: ${ours.stderr}\ncrun stderr: ${crun.stderr}`).toBe(outcome(crun.stdout));
  expect(ours.status).toBe(crun.status);
  return ours;
}

const allowAll = (syscalls: unknown[]) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls });

// Calls every default profile has an opinion on. ptrace: PTRACE_TRACEME only
// (attaching to the shell could leave it stopped).
const DENIED_SOMEWHERE = [
  'add_key:/user:/d:0:0:0xfffffffd',
  'keyctl:0:0xfffffffd',
  'request_key:/user:/d:0:0',
  'bpf:0:0:0',
  'unshare:0x10000000',
  'ptrace:0',
  'kexec_load:0:0:0:0',
  'reboot:0',
  'perf_event_open:0:0:0:0:0',
  'personality:0xffffffff',
  'getpid',
  'sched_yield',
];

describe.each(USERS)('as %s', (as) => {
  describe.each([
    ['podman', as === 'root' ? 'podman-4.3-root-run.json' : 'podman-4.3-rootless-run.json'],
    ['buildah', 'buildah-1.28-rootless-nosubuid.json'],
    ['Docker', 'engines/docker-20.10-root-it.json'],
  ])("%s's default profile", (_client, file) => {
    it('denies what crun denies, with the same errno; the filter shows in /proc/self/status', () => {
      const r = both(as, `grep '^Seccomp:' /proc/self/status; probe ${DENIED_SOMEWHERE.join(' ')}`, clientProfile(file));
      expect(r.stdout).toMatch(/^Seccomp:\t2$/m);
      // Without the profile add_key gets EINVAL (a user key with an empty payload): the profile's answer is EPERM or ENOSYS.
      expect(r.stdout).toMatch(/^add_key=-1 E(PERM|NOSYS)$/m);
      expect(r.stdout).toMatch(/^kexec_load=-1 EPERM$/m);
      expect(r.stdout).toMatch(/^getpid=\d+$/m);
      expect(r.status).toBe(0);
    });
  });

  it('with noNewPrivileges false (what podman sends) the profile is still loaded, before the final capset', () => {
    const r = both(
      as,
      `grep '^Seccomp:' /proc/self/status; grep '^NoNewPrivs:' /proc/self/status; probe add_key:/user:/d:0:0:0xfffffffd getpid`,
      clientProfile('engines/docker-20.10-root-it.json'),
      (c) => {
        c.process.noNewPrivileges = false;
      },
    );
    expect(r.stdout).toMatch(/^Seccomp:\t2\nNoNewPrivs:\t0\nadd_key=-1 EPERM\ngetpid=\d+\n$/);
  });

  it('each action: ERRNO (errnoRet and EPERM), TRACE without tracer, LOG, ALLOW, TRAP, KILL, KILL_THREAD, KILL_PROCESS', () => {
    const on = (v: number, action: string, errnoRet?: number) => ({
      names: ['sched_yield'],
      action,
      errnoRet,
      args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }],
    });
    const profile = allowAll([
      on(1, 'SCMP_ACT_ERRNO', 42),
      on(2, 'SCMP_ACT_ERRNO'),
      on(3, 'SCMP_ACT_TRACE'),
      on(4, 'SCMP_ACT_LOG'),
      on(5, 'SCMP_ACT_ALLOW'),
      on(6, 'SCMP_ACT_TRAP'),
      on(7, 'SCMP_ACT_KILL'),
      on(8, 'SCMP_ACT_KILL_THREAD'),
      on(9, 'SCMP_ACT_KILL_PROCESS'),
    ]);
    const r = both(
      as,
      'probe sched_yield:1 sched_yield:2 sched_yield:3 sched_yield:4 sched_yield:5 sched_yield:0; for k in 6 7 8 9; do probe sched_yield:$k; echo status=$?; done',
      profile,
    );
    expect(r.stdout).toBe(
      'sched_yield=-1 ENOMSG\nsched_yield=-1 EPERM\nsched_yield=-1 ENOSYS\nsched_yield=0\nsched_yield=0\nsched_yield=0\n' +
        'status=159\n'.repeat(4),
    );
  });

  const cond = (op: string, value: number, valueTwo?: number) => ({ index: 0, value, valueTwo, op });
  it.each<[string, unknown[], [string, boolean][]]>([
    [
      'SCMP_CMP_NE',
      [cond('SCMP_CMP_NE', 5)],
      [
        ['5', false],
        ['4', true],
      ],
    ],
    [
      'SCMP_CMP_LT',
      [cond('SCMP_CMP_LT', 5)],
      [
        ['4', true],
        ['5', false],
        ['6', false],
      ],
    ],
    [
      'SCMP_CMP_LE',
      [cond('SCMP_CMP_LE', 5)],
      [
        ['5', true],
        ['6', false],
      ],
    ],
    [
      'SCMP_CMP_EQ',
      [cond('SCMP_CMP_EQ', 5)],
      [
        ['5', true],
        ['4', false],
      ],
    ],
    [
      'SCMP_CMP_GE',
      [cond('SCMP_CMP_GE', 5)],
      [
        ['4', false],
        ['5', true],
      ],
    ],
    [
      'SCMP_CMP_GT',
      [cond('SCMP_CMP_GT', 5)],
      [
        ['5', false],
        ['6', true],
      ],
    ],
    [
      'SCMP_CMP_MASKED_EQ (value = mask, valueTwo = datum)',
      [cond('SCMP_CMP_MASKED_EQ', 0xf0, 0x30)],
      [
        ['0x35', true],
        ['0x45', false],
      ],
    ],
    [
      'a 64-bit value (the high half is compared)',
      [cond('SCMP_CMP_EQ', 2 ** 32)],
      [
        ['0x100000000', true],
        ['0', false],
      ],
    ],
    [
      'conditions on two arguments (AND)',
      [cond('SCMP_CMP_EQ', 1), { index: 1, value: 2, op: 'SCMP_CMP_EQ' }],
      [
        ['1:2', true],
        ['1:3', false],
      ],
    ],
    [
      'one argument named twice (OR, as runc)',
      [cond('SCMP_CMP_EQ', 1), cond('SCMP_CMP_EQ', 2)],
      [
        ['1', true],
        ['2', true],
        ['3', false],
      ],
    ],
  ])('%s', (_op, args, cases) => {
    const profile = allowAll([{ names: ['sched_yield'], action: 'SCMP_ACT_ERRNO', errnoRet: 42, args }]);
    const r = both(as, `probe ${cases.map(([a]) => `sched_yield:${a}`).join(' ')}`, profile);
    expect(r.stdout).toBe(cases.map(([, hit]) => (hit ? 'sched_yield=-1 ENOMSG\n' : 'sched_yield=0\n')).join(''));
  });

  it('a profile denying mkdir does not break the set-up (it is loaded last)', () => {
    const profile = allowAll([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    const r = both(as, 'pwd; mkdir /tmp/x 2>/dev/null; echo mkdir=$?; probe mkdir:/tmp/y:0755', profile, (c) => {
      c.process.cwd = '/made/by/setup';
      c.mounts.push({ destination: '/new/mountpoint', type: 'tmpfs', source: 'tmpfs' });
    });
    expect(r.stdout).toBe('/made/by/setup\nmkdir=1\nmkdir=-1 EPERM\n');
  });

  it('syscall names libseccomp does not know are skipped with a --debug note', () => {
    const profile = allowAll([{ names: ['no_such_call', 'sched_yield'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 }]);
    const r = runBundle(
      'ch-run-oci',
      as,
      probeBundle(as, probe, 'probe sched_yield', (c) => (c.linux.seccomp = profile)),
      { debug: true },
    );
    expect(r.stderr).toMatch(/^ch-run-oci: debug: seccomp: unknown syscall no_such_call skipped$/m);
    expect(r.stdout).toBe('sched_yield=-1 ENOMSG\n');
  });

  it("a syscall name holding a line break cannot forge the runner's report (the container pid stays its own)", () => {
    const root = scratch(as);
    const profile = allowAll([{ names: ['x\npid 1', 'x\nerror forged', 'sched_yield'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 }]);
    const bundle = probeBundle(as, probe, 'sleep 30', (c) => (c.linux.seccomp = profile));
    const id = `sc-forge-${process.pid}`;
    try {
      const r = chroci(['--debug', '--root', root, 'create', '--bundle', bundle, id], { as });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^ch-run-oci: debug: seccomp: unknown syscall "x\\npid 1" skipped$/m);
      const state = JSON.parse(chroci(['--root', root, 'state', id], { as }).stdout);
      expect(state.pid).not.toBe(1);
      expect(fs.readFileSync(`/proc/${state.pid}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
    } finally {
      chroci(['--root', root, 'delete', '--force', id], { as });
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });

  it('takes the nulls Go clients send (containers-common\'s "args": null)', () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      defaultErrnoRet: null,
      architectures: null,
      flags: null,
      syscalls: [{ names: ['sched_yield'], action: 'SCMP_ACT_ERRNO', errnoRet: 42, args: null, comment: '', includes: {}, excludes: {} }],
    };
    const r = run('ch-run-oci', as, 'probe sched_yield', profile);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('sched_yield=-1 ENOMSG\n');
  });

  it('flags TSYNC, LOG and SPEC_ALLOW are applied', () => {
    const profile = {
      ...allowAll([{ names: ['sched_yield'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 }]),
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    };
    const r = both(as, 'probe sched_yield', profile);
    expect(r.stdout).toBe('sched_yield=-1 ENOMSG\n');
  });

  it("exec gets the container's profile", () => {
    const root = scratch(as);
    // Docker's profile denies keyctl too, which podman's allows.
    const profile = clientProfile('engines/docker-20.10-root-it.json');
    const bundle = probeBundle(as, probe, 'sleep 30', (c) => (c.linux.seccomp = profile));
    const id = `sc-exec-${process.pid}`;
    try {
      expect(chroci(['--root', root, 'create', '--bundle', bundle, id], { as }).status).toBe(0);
      expect(chroci(['--root', root, 'start', id], { as }).status).toBe(0);
      const r = chroci(
        [
          '--root',
          root,
          'exec',
          id,
          'sh',
          '-c',
          "grep '^Seccomp:' /proc/self/status; probe add_key:/user:/d:0:0:0xfffffffd keyctl:0:0xfffffffd",
        ],
        { as },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^Seccomp:\t2\nadd_key=-1 E(PERM|NOSYS)\nkeyctl=-1 E(PERM|NOSYS)\n$/);
    } finally {
      chroci(['--root', root, 'delete', '--force', id], { as });
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });

  it.each<[string, unknown, RegExp]>([
    [
      'SCMP_ACT_NOTIFY',
      allowAll([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }]),
      /^ch-run-oci: config.json: \/linux\/seccomp\/syscalls\/0\/action: SCMP_ACT_NOTIFY is not supported \(.*\)\n$/,
    ],
    [
      'an architecture libseccomp 2.5 lacks',
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_LOONGARCH64'] },
      /^ch-run-oci: config.json: \/linux\/seccomp\/architectures\/0: architecture not supported by libseccomp 2.5 \(supported: .*\)\n$/,
    ],
  ])('refuses %s in one line, leaving nothing', (_n, profile, message) => {
    const root = scratch(as);
    const bundle = probeBundle(as, probe, 'true', (c) => (c.linux.seccomp = profile));
    try {
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'refused'], { as });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(fs.readdirSync(root).filter((e) => e === 'refused')).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });
});

// Single-id user namespace: the fake-root filter stays under the profile.
describe('as user, with fake root', () => {
  it('a profile that allows chown and setuid still lets the fake-root supervisor answer them', () => {
    const r = run(
      'ch-run-oci',
      'user',
      'touch /tmp/f; chown 5:5 /tmp/f; echo chown=$?; probe uid:5 getuid',
      clientProfile('podman-4.3-rootless-run.json'),
    );
    expect(r.stdout).toBe('chown=0\nuid=0\ngetuid=5\n');
  });

  it('what the profile denies stays denied, though fake root would fake it', () => {
    const profile = allowAll([
      { names: ['chown', 'fchown', 'fchownat', 'lchown'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: ['setuid'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    ]);
    const r = run('ch-run-oci', 'user', 'touch /tmp/f; probe chown:/tmp/f:5:5 uid:5 getuid', profile);
    expect(r.stdout).toBe('chown=-1 EPERM\nuid=-1 EACCES\ngetuid=0\n');
  });
});
