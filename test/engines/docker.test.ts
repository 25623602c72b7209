// Docker 20.10 (dockerd → containerd → runc shim → the runtime), as users run
// it. Every expectation is what runc does with the same command. PLAIN keeps
// a container within what ch-run-oci has today (host network, no seccomp
// profile); scenarios beyond that are marked with needsFeature().
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  IMAGE,
  IS_CRUN,
  PLAIN,
  RUNTIME_NAME,
  collect,
  docker,
  dockerArgv,
  dockerRun,
  exited,
  needsFeature,
  onTerminal,
  pidsOf,
  scratchDir,
  show,
  startDocker,
  uniq,
  waitFor,
} from './helpers';

const names: string[] = [];
function name(prefix: string): string {
  const n = uniq(prefix);
  names.push(n);
  return n;
}
afterAll(() => {
  if (names.length) docker(['rm', '-f', ...names]);
});

const inspect = (n: string, fmt: string) => docker(['inspect', '-f', fmt, n]).stdout.trim();
const running = (n: string) => inspect(n, '{{.State.Running}}') === 'true';

describe('docker run', () => {
  it("prints the output, exits with the container's status; HOME from /etc/passwd (Docker sends none)", () => {
    const r = dockerRun(['--rm', ...PLAIN, IMAGE, 'sh', '-c', 'echo "out $HOME"; echo err >&2; exit 3']);
    expect(r.status, show(r)).toBe(3);
    expect(r.stdout).toBe('out /root\n');
    expect(r.stderr).toBe('err\n');
  });

  it("a missing executable exits 127 and names it (Docker matches runc's text; crun's gets 125)", () => {
    const r = dockerRun(['--rm', ...PLAIN, IMAGE, 'no-such-program']);
    expect(r.status, show(r)).toBe(IS_CRUN ? 125 : 127);
    expect(r.stderr).toMatch(
      IS_CRUN ? /executable file `no-such-program` not found/ : /"no-such-program": executable file not found in \$PATH/,
    );
  });

  it('-i passes stdin through, to EOF', () => {
    const r = dockerRun(['--rm', '-i', ...PLAIN, IMAGE, 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'one\ntwo\n' });
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('ONE\nTWO\ndone\n');
  });

  it("--network=host sees the host's interfaces", () => {
    const ifaces = (s: string) =>
      s
        .split('\n')
        .slice(2)
        .map((l) => l.split(':')[0].trim())
        .filter(Boolean)
        .sort();
    const r = dockerRun(['--rm', ...PLAIN, IMAGE, 'cat', '/proc/net/dev']);
    expect(r.status, show(r)).toBe(0);
    expect(ifaces(r.stdout)).toEqual(ifaces(fs.readFileSync('/proc/net/dev', 'utf8')));
  });

  needsFeature(['hooks', 'sysctl'], '--network=none: only lo (Docker adds its libnetwork-setkey prestart hook)', () => {
    const r = dockerRun(['--rm', '--network=none', '--security-opt', 'seccomp=unconfined', IMAGE, 'cat', '/proc/net/dev']);
    expect(r.status, show(r)).toBe(0);
    expect(
      r.stdout
        .split('\n')
        .slice(2)
        .map((l) => l.split(':')[0].trim())
        .filter(Boolean),
    ).toEqual(['lo']);
  });

  needsFeature(
    ['hooks', 'sysctl', 'seccomp'],
    'the default network and seccomp profile (no bridge here: the daemon runs with --bridge=none)',
    () => {
      const r = dockerRun([
        '--rm',
        IMAGE,
        'sh',
        '-c',
        'grep Seccomp: /proc/self/status; cat /proc/sys/net/ipv4/ip_unprivileged_port_start',
      ]);
      // With --bridge=none the default network is "none"-like: the container still gets its own namespace.
      expect(r.status, show(r)).toBe(0);
      expect(r.stdout).toBe('Seccomp:\t2\n0\n');
    },
  );

  needsFeature('seccomp', 'the default seccomp profile filters (Seccomp: 2) and refuses what it lists', () => {
    const r = dockerRun(['--rm', '--network=host', IMAGE, 'sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('NoNewPrivs:\t0\nSeccomp:\t2\n');
  });

  needsFeature(['sysctl', 'hooks'], '--sysctl sets a namespaced sysctl', () => {
    const r = dockerRun([
      '--rm',
      '--network=none',
      '--security-opt',
      'seccomp=unconfined',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      IMAGE,
      'cat',
      '/proc/sys/net/ipv4/ip_forward',
    ]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('1\n');
  });

  it('--read-only root refuses writes; --tmpfs and -v take them', () => {
    const dir = scratchDir('vol');
    fs.writeFileSync(path.join(dir, 'in'), 'host file\n');
    const r = dockerRun([
      '--rm',
      ...PLAIN,
      '--read-only',
      '--tmpfs',
      '/scratch',
      '-v',
      `${dir}:/vol`,
      IMAGE,
      'sh',
      '-c',
      'touch /x 2>&1; echo $?; echo t > /scratch/t && cat /scratch/t; grep " /scratch " /proc/mounts | cut -d" " -f3; cat /vol/in; echo back > /vol/out',
    ]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('touch: /x: Read-only file system\n1\nt\ntmpfs\nhost file\n');
    expect(fs.readFileSync(path.join(dir, 'out'), 'utf8')).toBe('back\n');
  });

  it('-v :ro refuses writes', () => {
    const dir = scratchDir('volro');
    const r = dockerRun(['--rm', ...PLAIN, '-v', `${dir}:/vol:ro`, IMAGE, 'sh', '-c', 'touch /vol/x 2>&1; echo $?']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('touch: /vol/x: Read-only file system\n1\n');
  });

  it('--cap-drop ALL leaves no capability; --security-opt no-new-privileges sets NoNewPrivs', () => {
    const r = dockerRun([
      '--rm',
      ...PLAIN,
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      IMAGE,
      'sh',
      '-c',
      'grep -E "^(CapEff|CapPrm|CapBnd|NoNewPrivs):" /proc/self/status',
    ]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\n');
    const d = dockerRun(['--rm', ...PLAIN, IMAGE, 'sh', '-c', 'grep -E "^(CapEff|NoNewPrivs):" /proc/self/status']);
    // Docker's 14 default capabilities.
    expect(d.stdout).toBe('CapEff:\t00000000a80425fb\nNoNewPrivs:\t0\n');
  });

  needsFeature('cgroups', '--memory and --pids-limit are enforced', () => {
    const r = dockerRun([
      '--rm',
      ...PLAIN,
      '--memory',
      '64m',
      '--pids-limit',
      '20',
      IMAGE,
      'sh',
      '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max',
    ]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('67108864\n20\n');
  });

  it('10 parallel runs all succeed', async () => {
    const runs = Array.from({ length: 10 }, (_, i) => {
      const c = startDocker(['run', '--rm', '--runtime', RUNTIME_NAME, ...PLAIN, IMAGE, 'sh', '-c', `echo run-${i}`]);
      const io = collect(c);
      return exited(c).then((e) => ({ ...e, out: io.out(), err: io.err() }));
    });
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(`run-${i}\n`);
    });
  });

  needsFeature('terminal', '-it gives the container a terminal', () => {
    const r = onTerminal(
      dockerArgv([
        'run',
        '--rm',
        '-it',
        '--runtime',
        RUNTIME_NAME,
        ...PLAIN,
        IMAGE,
        'sh',
        '-c',
        'test -t 0 && test -t 1 && echo tty; exit 2',
      ]),
    );
    expect(r.status, show(r)).toBe(2);
    expect(r.stdout).toBe('tty\n');
  });
});

describe('docker run -d, then exec, logs, top, kill, stop', () => {
  const n = name('life');

  it('-d starts it', async () => {
    const r = dockerRun([
      '-d',
      '--name',
      n,
      ...PLAIN,
      IMAGE,
      'sh',
      '-c',
      'trap "echo got-usr1" USR1; echo started; while :; do sleep 0.1; done',
    ]);
    expect(r.status, show(r)).toBe(0);
    await waitFor('running', () => running(n));
  });

  it('exec runs a process with its status; -u picks the user; -i passes stdin', () => {
    const e = docker(['exec', n, 'sh', '-c', 'echo "exec $HOME"; exit 5']);
    expect(e.status, show(e)).toBe(5);
    expect(e.stdout).toBe('exec /root\n');
    const u = docker(['exec', '-u', '1:1', n, 'sh', '-c', 'id -u; id -g; echo $HOME']);
    expect(u.status, show(u)).toBe(0);
    expect(u.stdout).toBe('1\n1\n/\n');
    const i = docker(['exec', '-i', n, 'sh', '-c', 'cat; echo end'], { input: 'exec stdin\n' });
    expect(i.status, show(i)).toBe(0);
    expect(i.stdout).toBe('exec stdin\nend\n');
  });

  needsFeature('terminal', 'exec -it gives the process a terminal', () => {
    const r = onTerminal(dockerArgv(['exec', '-it', n, 'sh', '-c', 'test -t 0 && echo tty']));
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('tty\n');
  });

  it("top lists the container's processes", () => {
    const t = docker(['top', n]);
    expect(t.status, show(t)).toBe(0);
    expect(t.stdout).toMatch(/while :; do sleep 0\.1; done/);
  });

  needsFeature('cgroups', 'stats --no-stream reads its cgroup', () => {
    const s = docker(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', n]);
    expect(s.status, show(s)).toBe(0);
    expect(s.stdout).toMatch(new RegExp(`^${n} [1-9][0-9.]*[KMG]iB / .* [1-9][0-9]*\\n$`));
  });

  needsFeature('cgroups', 'pause freezes it, unpause thaws it', async () => {
    expect(docker(['pause', n]).status).toBe(0);
    expect(inspect(n, '{{.State.Status}}')).toBe('paused');
    expect(docker(['unpause', n]).status).toBe(0);
    expect(inspect(n, '{{.State.Status}}')).toBe('running');
  });

  it('kill -s USR1 reaches the trap; logs show it', async () => {
    expect(docker(['kill', '-s', 'USR1', n]).status).toBe(0);
    await waitFor('got-usr1 in the logs', () => docker(['logs', n]).stdout.includes('got-usr1'));
    expect(docker(['logs', n]).stdout).toBe('started\ngot-usr1\n');
    expect(running(n)).toBe(true);
  });

  it('stop -t 1 of a container that ignores TERM kills it after 1 s: exit 137', () => {
    const t0 = Date.now();
    const s = docker(['stop', '-t', '1', n]);
    const ms = Date.now() - t0;
    expect(s.status, show(s)).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(10_000);
    expect(inspect(n, '{{.State.ExitCode}}')).toBe('137');
    expect(docker(['rm', n]).status).toBe(0);
  });

  it('stop of a container that handles TERM ends it at once with its own status', () => {
    const m = name('term');
    expect(dockerRun(['-d', '--name', m, ...PLAIN, IMAGE, 'sh', '-c', 'trap "exit 9" TERM; while :; do sleep 0.1; done']).status).toBe(0);
    const t0 = Date.now();
    expect(docker(['stop', '-t', '10', m]).status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(inspect(m, '{{.State.ExitCode}}')).toBe('9');
    expect(docker(['rm', m]).status).toBe(0);
  });

  it('start of a stopped container runs it again; rm -f of a running one removes it', async () => {
    const m = name('again');
    expect(dockerRun(['--name', m, ...PLAIN, IMAGE, 'echo', 'once']).status).toBe(0);
    const s = docker(['start', '-a', m]);
    expect(s.status, show(s)).toBe(0);
    expect(s.stdout).toBe('once\n');
    const k = name('rmf');
    expect(dockerRun(['-d', '--name', k, ...PLAIN, IMAGE, 'sleep', '1000']).status).toBe(0);
    expect(docker(['rm', '-f', k]).status).toBe(0);
    expect(docker(['inspect', k]).status).toBe(1);
  });

  needsFeature('pidHost', '--pid=host: stop and rm leave none of its processes behind', async () => {
    const m = name('pidhost');
    const marker = `${m}-bg`;
    // Background processes outlive sh (the init) when TERM ends it.
    expect(
      dockerRun([
        '-d',
        '--name',
        m,
        '--pid=host',
        ...PLAIN,
        IMAGE,
        'sh',
        '-c',
        `sleep 4321 & sleep 4322 & trap "exit 0" TERM; echo ${marker}; while :; do sleep 0.1; done`,
      ]).status,
    ).toBe(0);
    await waitFor('the background sleeps', () => pidsOf(['sleep', '4322'], { live: true }).length > 0);
    expect(docker(['stop', '-t', '2', m]).status).toBe(0);
    expect(docker(['rm', m]).status).toBe(0);
    await waitFor(
      'no leftover sleeps',
      () => pidsOf(['sleep', '4321'], { live: true }).length === 0 && pidsOf(['sleep', '4322'], { live: true }).length === 0,
      10_000,
    );
  });
});
