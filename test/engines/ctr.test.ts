// containerd 1.6 through its runc shim (the path Kubernetes' CRI plugin takes),
// driven with ctr. Every expectation is what runc does with the same command.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IMAGE, IS_CRUN, ctr, ctrArgv, ctrRun, ctrRunArgv, needsFeature, onTerminal, scratchDir, show, uniq, waitFor } from './helpers';

const created: string[] = [];
function name(prefix: string): string {
  const id = uniq(prefix);
  created.push(id);
  return id;
}

afterAll(() => {
  for (const id of created) {
    ctr(['task', 'kill', '-s', 'KILL', id]);
    ctr(['task', 'delete', '-f', id]);
    ctr(['containers', 'delete', id]);
  }
});

const taskStatus = (id: string): string => {
  const line = ctr(['task', 'ls'])
    .stdout.split('\n')
    .find((l) => l.split(/\s+/)[0] === id);
  return line ? line.trim().split(/\s+/)[2] : 'none';
};

describe('ctr run', () => {
  it('prints what the container printed and exits with its status', () => {
    const r = ctrRun(['--rm', IMAGE, name('out'), 'sh', '-c', 'echo hello; echo err >&2; exit 3']);
    expect(r.status, show(r)).toBe(3);
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toBe('err\n');
  });

  it('passes stdin through', () => {
    // ctr never closes the container's stdin at EOF (runc or not): read one line.
    const r = ctrRun(['--rm', IMAGE, name('stdin'), 'sh', '-c', 'read l; echo "$l" | tr a-z A-Z'], {
      input: 'piped text\n',
      timeout: 20_000,
    });
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('PIPED TEXT\n');
  });

  it('the environment has HOME from /etc/passwd (ctr sends none), PATH from the image; pid 1 in a pid namespace', () => {
    const r = ctrRun(['--rm', IMAGE, name('env'), 'sh', '-c', 'echo "$HOME|$PATH|$$"; id -u']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('/root|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|1\n0\n');
  });

  it('a missing executable fails the run, naming it', () => {
    const r = ctrRun(['--rm', IMAGE, name('noexe'), 'no-such-program']);
    expect(r.status).not.toBe(0);
    // runc: exec: "no-such-program": executable file not found in $PATH; crun: executable file `no-such-program` not found.
    expect(r.stderr).toMatch(
      IS_CRUN ? /executable file `no-such-program` not found/ : /"no-such-program": executable file not found in \$PATH/,
    );
  });

  it("--net-host sees the host's interfaces; without it only lo", () => {
    const ifaces = (s: string) =>
      s
        .split('\n')
        .slice(2)
        .map((l) => l.split(':')[0].trim())
        .filter(Boolean)
        .sort();
    const host = ifaces(fs.readFileSync('/proc/net/dev', 'utf8'));
    const withHost = ctrRun(['--rm', '--net-host', IMAGE, name('nethost'), 'cat', '/proc/net/dev']);
    expect(withHost.status, show(withHost)).toBe(0);
    expect(ifaces(withHost.stdout)).toEqual(host);
    const own = ctrRun(['--rm', IMAGE, name('netown'), 'cat', '/proc/net/dev']);
    expect(own.status, show(own)).toBe(0);
    expect(ifaces(own.stdout)).toEqual(['lo']);
  });

  it('binds: a read-only one refuses writes, a writable one writes through to the host', () => {
    const dir = scratchDir('bind');
    fs.writeFileSync(path.join(dir, 'in'), 'from host\n');
    const ro = ctrRun([
      '--rm',
      '--mount',
      `type=bind,src=${dir},dst=/data,options=rbind:ro`,
      IMAGE,
      name('bindro'),
      'sh',
      '-c',
      'cat /data/in; touch /data/x 2>&1; echo $?',
    ]);
    expect(ro.status, show(ro)).toBe(0);
    expect(ro.stdout).toMatch(/^from host\ntouch: \/data\/x: Read-only file system\n1\n$/);
    const rw = ctrRun([
      '--rm',
      '--mount',
      `type=bind,src=${dir},dst=/data,options=rbind:rw`,
      IMAGE,
      name('bindrw'),
      'sh',
      '-c',
      'echo written > /data/out',
    ]);
    expect(rw.status, show(rw)).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'out'), 'utf8')).toBe('written\n');
  });

  it('--read-only: the root refuses writes, /dev/shm and the tmpfs mounts still take them', () => {
    const r = ctrRun(['--rm', '--read-only', IMAGE, name('ro'), 'sh', '-c', 'touch /x 2>&1; echo $?; touch /dev/shm/y && echo shm']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('touch: /x: Read-only file system\n1\nshm\n');
  });

  needsFeature('terminal', '-t gives the container a terminal', () => {
    const r = onTerminal(ctrRunArgv(['--rm', '-t', IMAGE, name('tty'), 'sh', '-c', 'test -t 0 && test -t 1 && echo tty; tty']));
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toBe('tty\n/dev/pts/0\n');
  });
});

describe('ctr run -d, then task exec, ps, kill and delete', () => {
  const id = name('life');

  it('-d starts it; the task is RUNNING', async () => {
    const r = ctrRun(['-d', IMAGE, id, 'sh', '-c', 'trap "echo got-term; exit 7" TERM; while :; do sleep 0.1; done']);
    expect(r.status, show(r)).toBe(0);
    await waitFor('RUNNING', () => taskStatus(id) === 'RUNNING');
  });

  it('task exec runs a process in it with its exit status; --user picks the uid', () => {
    const e = ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo "in $(hostname) $HOME"; exit 4']);
    expect(e.status, show(e)).toBe(4);
    // ctr sets no hostname: the container keeps the host's, in its own uts namespace.
    expect(e.stdout).toBe(`in ${os.hostname()} /root\n`);
    const u = ctr(['task', 'exec', '--exec-id', 'e2', '--user', '1', id, 'sh', '-c', 'id -u; echo $HOME']);
    expect(u.status, show(u)).toBe(0);
    // busybox's passwd has daemon (uid 1) with home "/".
    expect(u.stdout).toBe('1\n/\n');
    const i = ctr(['task', 'exec', '--exec-id', 'e3', id, 'cat'], { input: 'to exec\n' });
    expect(i.status, show(i)).toBe(0);
    expect(i.stdout).toBe('to exec\n');
  });

  needsFeature('terminal', 'task exec -t gives the process a terminal', () => {
    const e = onTerminal(ctrArgv(['task', 'exec', '-t', '--exec-id', 'et', id, 'sh', '-c', 'test -t 0 && echo tty']));
    expect(e.status, show(e)).toBe(0);
    expect(e.stdout).toMatch(/^tty\n/);
  });

  it('task ps lists the init and its children', () => {
    const r = ctr(['task', 'ps', id]);
    expect(r.status, show(r)).toBe(0);
    const pids = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(pids.length).toBeGreaterThanOrEqual(1);
    const init = Number(
      ctr(['task', 'ls'])
        .stdout.split('\n')
        .find((l) => l.startsWith(`${id} `))!
        .trim()
        .split(/\s+/)[1],
    );
    expect(pids).toContain(init);
  });

  needsFeature('cgroups', 'task pause and resume freeze and thaw it; task metrics reads its cgroup', async () => {
    expect(ctr(['task', 'pause', id]).status).toBe(0);
    await waitFor('PAUSED', () => taskStatus(id) === 'PAUSED');
    expect(ctr(['task', 'resume', id]).status).toBe(0);
    await waitFor('RUNNING', () => taskStatus(id) === 'RUNNING');
    const m = ctr(['task', 'metrics', id]);
    expect(m.status, show(m)).toBe(0);
    expect(m.stdout).toMatch(/memory\.usage_in_bytes|memory\.current|pids\.current/);
  });

  it("task kill (TERM) reaches the trap; the exit status is the container's", async () => {
    expect(ctr(['task', 'kill', '-s', 'TERM', id]).status).toBe(0);
    await waitFor('STOPPED', () => taskStatus(id) === 'STOPPED');
    const d = ctr(['task', 'delete', id]);
    expect(d.status, show(d)).toBe(0);
    expect(d.stdout).toMatch(/exit status 7|^$/);
    expect(ctr(['containers', 'delete', id]).status).toBe(0);
  });

  it('task kill -s KILL of a process that ignores TERM; kill of a stopped task is "not found", not an unknown error', async () => {
    const k = name('kill');
    // pid 1 of a pid namespace ignores TERM without a handler: only KILL ends it.
    expect(ctrRun(['-d', IMAGE, k, 'sleep', '1000']).status).toBe(0);
    await waitFor('RUNNING', () => taskStatus(k) === 'RUNNING');
    expect(ctr(['task', 'kill', '-s', 'TERM', k]).status).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(taskStatus(k)).toBe('RUNNING');
    expect(ctr(['task', 'kill', '-s', 'KILL', k]).status).toBe(0);
    await waitFor('STOPPED', () => taskStatus(k) === 'STOPPED');
    const again = ctr(['task', 'kill', '-s', 'KILL', k]);
    expect(again.stderr).not.toMatch(/unknown error after kill/);
    expect(again.stderr).toMatch(/not found|process already finished/);
    expect(ctr(['task', 'delete', k]).status).toBe(0);
    expect(ctr(['containers', 'delete', k]).status).toBe(0);
  });
});
