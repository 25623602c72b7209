// podman (with conmon) driving RUNTIME, as root and as both test users.
// podman calls create (via conmon, with --log-format=json --log FILE when the
// runtime's name is in runtime_supports_json), start, kill ID SIG, delete
// --force, and exec (via conmon, --process FILE --detach).
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, DEBIAN, RUNTIME, WHO, type Who, podman, ptyDrive, runtimeStates, scratch, show } from './helpers';

describe.each(WHO)('podman as %s', (who: Who) => {
  const names: string[] = [];
  const dirs: string[] = [];
  afterAll(() => {
    // rm -f stops through the runtime too; -t 0 skips the grace period.
    if (names.length) podman(who, ['rm', '-f', '-t', '0', '--ignore', ...names]);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  let n = 0;
  const name = (what: string): string => {
    const v = `chroci-${what}-${process.pid}-${n++}`;
    names.push(v);
    return v;
  };

  it('run --rm IMAGE echo hi prints hi', () => {
    const r = podman(who, ['run', '--rm', BUSYBOX, 'echo', 'hi']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('hi\n');
  });

  it("the exit status propagates (sh -c 'exit 7' → 7)", () => {
    const r = podman(who, ['run', '--rm', BUSYBOX, 'sh', '-c', 'exit 7']);
    expect(r.status, show(r)).toBe(7);
  });

  it('-i passes stdin', () => {
    const r = podman(who, ['run', '--rm', '-i', BUSYBOX, 'sh', '-c', 'cat; echo " <-stdin"'], { input: 'piped in' });
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('piped in <-stdin\n');
  });

  it('-e and -w reach the process', () => {
    const r = podman(who, [
      'run',
      '--rm',
      '-e',
      'CHROCI_VAR=some value',
      '-w',
      '/var/tmp',
      BUSYBOX,
      'sh',
      '-c',
      'echo "$CHROCI_VAR|$(pwd)"',
    ]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('some value|/var/tmp\n');
  });

  // A user without subuids has one id in its namespace (its own, as 0): no other user is mappable.
  it.skipIf(who === 'chroci-test')('--user nobody runs as 65534 with its groups', () => {
    const r = podman(who, ['run', '--rm', '--user', '65534:65534', BUSYBOX, 'sh', '-c', 'echo "$(id -u):$(id -g)"']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('65534:65534\n');
  });

  // The caller's own id is not in the map: the runtime sets up as the container's root.
  it.skipIf(who === 'chroci-test')("--uidmap 0:1:1000 maps the container's root elsewhere", () => {
    const r = podman(who, [
      'run',
      '--rm',
      '--uidmap',
      '0:1:1000',
      '--gidmap',
      '0:1:1000',
      BUSYBOX,
      'sh',
      '-c',
      'id -u; cat /proc/self/uid_map',
    ]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' '))).toEqual(['0', '0 1 1000', '']);
  });

  // podman's network namespace is joined, not ours: sysfs must still be that namespace's.
  it("default network: /sys/class/net lists the container's own interfaces", () => {
    const r = podman(who, [
      'run',
      '--rm',
      BUSYBOX,
      'sh',
      '-c',
      'ls /sys/class/net | sort | tr "\\n" " "; echo; ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d " " | sort | tr "\\n" " "',
    ]);
    expect(r.status, show(r)).toBe(0);
    const [sys, links] = r.stdout.split('\n');
    expect(sys).toContain('lo');
    expect(sys).toBe(links);
  });

  // Allowed only for runtimes listed in containers.conf's runtime_supports_nocgroup.
  it('--cgroups=disabled runs', () => {
    const r = podman(who, ['run', '--rm', '--cgroups=disabled', BUSYBOX, 'echo', 'ok']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('ok\n');
  });

  it("--group-add keep-groups keeps the caller's groups (crun's run.oci.keep_original_groups)", () => {
    const r = podman(who, ['run', '--rm', '--group-add', 'keep-groups', BUSYBOX, 'id', '-G']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^\d+( \d+)*\n$/);
  });

  it('the default seccomp profile is applied: the filter shows in /proc/self/status', () => {
    // As root nothing else installs a filter, so seccomp=unconfined shows 0;
    // a single-id user always has the fake-root filter.
    const r = podman(who, ['run', '--rm', BUSYBOX, 'grep', '^Seccomp:', '/proc/self/status']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('Seccomp:\t2\n');
    if (who === 'root') {
      const u = podman(who, ['run', '--rm', '--security-opt', 'seccomp=unconfined', BUSYBOX, 'grep', '^Seccomp:', '/proc/self/status']);
      expect(u.status, show(u)).toBe(0);
      expect(u.stdout).toBe('Seccomp:\t0\n');
    }
  });

  it("--sysctl net.ipv4.ip_unprivileged_port_start=0 reaches the container, and rootless podman's ping_group_range", () => {
    const r = podman(who, [
      'run',
      '--rm',
      '--sysctl',
      'net.ipv4.ip_unprivileged_port_start=0',
      BUSYBOX,
      'cat',
      '/proc/sys/net/ipv4/ip_unprivileged_port_start',
      '/proc/sys/net/ipv4/ping_group_range',
    ]);
    expect(r.status, show(r)).toBe(0);
    const [port, ping] = r.stdout.split('\n');
    expect(port).toBe('0');
    // podman sends "0 0" when rootless only.
    if (who !== 'root') expect(ping).toBe('0\t0');
  });

  it('--personality LINUX32 gives a 32-bit uname', () => {
    const r = podman(who, ['run', '--rm', '--personality', 'LINUX32', BUSYBOX, 'uname', '-m']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^i[3-6]86\n$/);
  });

  // As root podman lists the device in linux.devices (fileMode with the type
  // bits); rootless it binds it and asks for rslave root propagation.
  it('--device HOST:CONTAINER gives the host device under the new name', () => {
    const r = podman(who, [
      'run',
      '--rm',
      '--device',
      '/dev/null:/dev/xnull',
      BUSYBOX,
      'sh',
      '-c',
      'ls -l /dev/xnull | cut -c1-10; echo x > /dev/xnull && echo written',
    ]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('crw-rw-rw-\nwritten\n');
  });

  it('--privileged runs, with the host devices and every capability', () => {
    const r = podman(who, [
      'run',
      '--rm',
      '--privileged',
      BUSYBOX,
      'sh',
      '-c',
      'test -c /dev/null && ls /dev | wc -l; grep CapEff /proc/self/status',
    ]);
    expect(r.status, show(r)).toBe(0);
    const [count, caps] = r.stdout.trim().split('\n');
    expect(Number(count)).toBeGreaterThan(10);
    expect(caps).toMatch(/^CapEff:\s+000001ffffffffff|^CapEff:\s+000001fffeffffff/);
  });

  it('--user 0:0 (mappable for everyone) runs as root of the container', () => {
    const r = podman(who, ['run', '--rm', '--user', '0:0', BUSYBOX, 'id', '-u']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('0\n');
  });

  it('the Debian image runs', () => {
    const r = podman(who, ['run', '--rm', DEBIAN, 'bash', '-c', 'echo "debian $(cat /etc/debian_version)"']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^debian \d+/);
  });

  it('default network: the container has an interface besides lo (podman passes a netns path)', () => {
    const r = podman(who, ['run', '--rm', BUSYBOX, 'cat', '/proc/net/dev']);
    expect(r.status, show(r)).toBe(0);
    const ifaces = interfaces(r.stdout);
    expect(ifaces).toContain('lo');
    expect(ifaces.filter((i) => i !== 'lo').length, r.stdout).toBeGreaterThan(0);
  });

  it('--network=none: only lo', () => {
    const r = podman(who, ['run', '--rm', '--network=none', BUSYBOX, 'cat', '/proc/net/dev']);
    expect(r.status, show(r)).toBe(0);
    expect(interfaces(r.stdout)).toEqual(['lo']);
  });

  it('run -d, stop (TERM ignored by pid 1 → KILL), start again, kill, wait, rm', () => {
    const c = name('life');
    let r = podman(who, ['run', '-d', '--name', c, BUSYBOX, 'sleep', '2001']);
    expect(r.status, show(r)).toBe(0);
    const id = r.stdout.trim();
    expect(running(who, c)).toBe(true);
    expect(
      runtimeStates(who, (n) => n === id),
      'the runtime keeps state under a known root',
    ).toHaveLength(1);

    // sleep as pid 1 ignores SIGTERM: podman sends `kill ID 15`, then `kill ID 9` after 1 s.
    r = podman(who, ['stop', '-t', '1', c]);
    expect(r.status, show(r)).toBe(0);
    expect(running(who, c)).toBe(false);
    expect(exitCode(who, c)).toBe(137);

    r = podman(who, ['start', c]);
    expect(r.status, show(r)).toBe(0);
    expect(running(who, c)).toBe(true);

    r = podman(who, ['kill', c]);
    expect(r.status, show(r)).toBe(0);
    r = podman(who, ['wait', c]);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout.trim()).toBe('137');

    r = podman(who, ['rm', c]);
    expect(r.status, show(r)).toBe(0);
    expect(podman(who, ['container', 'exists', c]).status).toBe(1);
    expect(
      runtimeStates(who, (n) => n === id),
      'state left after podman rm',
    ).toEqual([]);
  });

  it('kill -s TERM reaches a process that handles it; wait returns its status', () => {
    const c = name('term');
    let r = podman(who, ['run', '-d', '--name', c, BUSYBOX, 'sh', '-c', 'trap "exit 5" TERM; echo ready; while :; do sleep 0.1; done']);
    expect(r.status, show(r)).toBe(0);
    waitLog(who, c, 'ready');
    r = podman(who, ['kill', '-s', 'TERM', c]);
    expect(r.status, show(r)).toBe(0);
    r = podman(who, ['wait', c]);
    expect(r.stdout.trim(), show(r)).toBe('5');
    expect(podman(who, ['rm', c]).status).toBe(0);
  });

  describe('exec', () => {
    let c = '';
    it('a detached container to exec into', () => {
      c = name('exec');
      const r = podman(who, ['run', '-d', '--name', c, BUSYBOX, 'sh', '-c', 'echo marker > /tmp/m; echo ready; exec sleep 2002']);
      expect(r.status, show(r)).toBe(0);
      waitLog(who, c, 'ready');
    });

    it("exec sees the container's files and runs in all of its namespaces", () => {
      const same = ['pid', 'net', 'mnt', 'ipc', 'uts', 'user']
        .map((ns) => `[ "$(readlink /proc/1/ns/${ns})" = "$(readlink /proc/self/ns/${ns})" ] || echo "not in ${ns}"`)
        .join('; ');
      const r = podman(who, ['exec', c, 'sh', '-c', `cat /tmp/m; ${same}; true`]);
      expect(r.status, show(r)).toBe(0);
      expect(r.stdout).toBe('marker\n');
    });

    it('exec -i passes stdin', () => {
      const r = podman(who, ['exec', '-i', c, 'sh', '-c', 'cat; echo "<"'], { input: 'into exec' });
      expect(r.status, show(r)).toBe(0);
      expect(r.stdout).toBe('into exec<\n');
    });

    it('exec exit status propagates; -e, -w, --user apply', () => {
      let r = podman(who, ['exec', c, 'sh', '-c', 'exit 4']);
      expect(r.status, show(r)).toBe(4);
      r = podman(who, ['exec', '-e', 'X=y', '-w', '/tmp', '--user', '0:0', c, 'sh', '-c', 'echo "$X $(pwd) $(id -u)"']);
      expect(r.status, show(r)).toBe(0);
      expect(r.stdout).toBe('y /tmp 0\n');
    });

    it('the container is still running after the execs, and stops', () => {
      expect(running(who, c)).toBe(true);
      const r = podman(who, ['rm', '-f', '-t', '0', c]);
      expect(r.status, show(r)).toBe(0);
    });
  });

  // Terminals: conmon passes --console-socket to create and exec and takes the pty master (runc's protocol).
  it('run -t: the process has a pty (conmon got the master)', () => {
    const r = podman(who, ['run', '--rm', '-t', BUSYBOX, 'sh', '-c', 'tty; [ -t 0 ] && echo tty-ok; exit 3'], { timeout: 30_000 });
    expect(r.signal, 'podman hung').toBeNull();
    expect(r.status, show(r)).toBe(3);
    expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r\ntty-ok\r\n$/);
  });

  it('run -it from a terminal: typed input, window size, ^C, the exit status', () => {
    const r = ptyDrive(
      who,
      ['podman', '--runtime', RUNTIME, 'run', '--rm', '-it', BUSYBOX, 'sh'],
      [
        { expect: '# ', within: 20 },
        { send: 'stty size\r' },
        { expect: '24 80' },
        { send: 'sleep 60\r' },
        { pause: 0.5 },
        { send: '\x03' },
        { send: 'echo typed-$((6*7))\r' },
        { expect: 'typed-42' },
        { send: 'exit 7\r' },
      ],
    );
    expect(r.hung, r.out).toBe(false);
    expect(r.status, r.out).toBe(7);
    expect(r.out).toContain('24 80\r\n');
    expect(r.out).toContain('typed-42\r\n');
  });

  it('exec -it from a terminal into a running container', () => {
    const c = name('exec-tty');
    const d = podman(who, ['run', '-d', '--name', c, BUSYBOX, 'sleep', '2003']);
    expect(d.status, show(d)).toBe(0);
    const r = ptyDrive(
      who,
      ['podman', '--runtime', RUNTIME, 'exec', '-it', c, 'sh'],
      [{ expect: '# ', within: 20 }, { send: 'tty; echo typed-$((2+3))\r' }, { expect: 'typed-5' }, { send: 'exit 4\r' }],
    );
    expect(r.hung, r.out).toBe(false);
    expect(r.status, r.out).toBe(4);
    expect(r.out).toMatch(/\/dev\/pts\/\d+\r\ntyped-5\r\n/);
    expect(running(who, c)).toBe(true);
  });

  it('an error in create (bind mount whose source vanished) is shown by podman', () => {
    // podman checks the source when the container is made, so remove it
    // between `create` and `start`: only the runtime's create sees it missing.
    const dir = scratch(who);
    dirs.push(dir);
    const src = path.join(dir, 'vanishing-source');
    fs.mkdirSync(src);
    const c = name('badmount');
    let r = podman(who, ['create', '--name', c, '-v', `${src}:/mnt`, BUSYBOX, 'true']);
    expect(r.status, show(r)).toBe(0);
    fs.rmdirSync(src);
    r = podman(who, ['start', '-a', c], { timeout: 30_000 });
    expect(r.status, show(r)).not.toBe(0);
    // The runtime's message names the source; podman shows it (ch-run-oci: via the JSON log).
    expect(r.stderr).toContain('vanishing-source');
    expect(r.stderr).toMatch(/no such file or directory/i);
  });
});

/** Interface names from /proc/net/dev. */
function interfaces(procNetDev: string): string[] {
  return procNetDev
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter((s) => s !== '')
    .sort();
}

function inspect(who: Who, c: string, fmt: string): string {
  const r = podman(who, ['inspect', '--format', fmt, c]);
  expect(r.status, show(r)).toBe(0);
  return r.stdout.trim();
}
const running = (who: Who, c: string): boolean => inspect(who, c, '{{.State.Running}}') === 'true';
const exitCode = (who: Who, c: string): number => Number(inspect(who, c, '{{.State.ExitCode}}'));

/** Waits (up to 10 s) until the container's log shows TEXT. */
function waitLog(who: Who, c: string, text: string): void {
  const until = Date.now() + 10_000;
  for (;;) {
    const r = podman(who, ['logs', c]);
    if (r.stdout.includes(text)) return;
    if (Date.now() > until) throw new Error(`container ${c} never printed ${text}\n${show(r)}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}
