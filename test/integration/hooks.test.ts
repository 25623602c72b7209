// runtime-spec hooks end to end, as root and as an unprivileged user: every
// kind with a recording hook (order, the state on stdin and its status at
// each point, the namespaces it ran in, args, exactly its env, cwd, the fds it
// holds, its output on our stderr and --log), timeouts, each failure mode,
// nothing left after a failing create, and a prestart hook shaped like
// Docker's libnetwork-setkey (it enters the container's network namespace by
// the pid in the state).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateState } from '../../src/spec/validate';
import { chroci, chownTree, isAlive, makeBundle, scratch, waitFor, type As } from '../helpers/runtime';

const USERS: As[] = ['root', 'user'];
const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Kind = (typeof KINDS)[number];
const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) fs.rmSync(d, { recursive: true, force: true });
});

// The recording hook: argv, env (its own /proc/self/environ, as exec'd), stdin,
// namespaces, cwd and open fds, each in a file named after its kind ($1) in
// the directory $2; then a line on stdout and one on stderr.
const RECORDER = `#!/bin/sh
k=$1; d=$2
ls -l /proc/self/fd > "$d/$k.fds" 2>&1
cat > "$d/$k.stdin"
printf '%s\\n' "$@" > "$d/$k.argv"
cat /proc/self/environ > "$d/$k.env"
for n in mnt net user pid; do readlink /proc/self/ns/$n; done > "$d/$k.ns"
pwd > "$d/$k.cwd"
echo "$k" >> "$d/order"
echo "out of $k"; echo "err of $k" >&2
`;

interface Setup {
  as: As;
  root: string;
  bundle: string;
  /** Where the host-side hooks write (and, bound at /rec, the container-side ones). */
  rec: string;
  /** A host script (its copy at /hook.sh in the rootfs is the one startContainer runs). */
  script(name: string, body: string): string;
}

function setup(as: As, edit: (c: any, s: Setup) => void): Setup {
  const dir = scratch(as, 'chroci-hooks-');
  cleanup.push(dir);
  const rec = path.join(dir, 'rec');
  const root = path.join(dir, 'root');
  fs.mkdirSync(rec);
  const s: Setup = {
    as,
    root,
    rec,
    bundle: '',
    script(name, body) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, body, { mode: 0o755 });
      // The container-side copy (startContainer's path resolves in the container).
      fs.writeFileSync(path.join(s.bundle, 'rootfs', name), body, { mode: 0o755 });
      chownTree(dir, as);
      return file;
    },
  };
  s.bundle = makeBundle(as, (c) => {
    c.process.args = ['sh', '-c', 'echo program'];
    c.mounts.push({ destination: '/rec', type: 'bind', source: rec, options: ['rbind'] });
  });
  cleanup.push(s.bundle);
  const file = path.join(s.bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(config, s);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  chownTree(dir, as);
  chownTree(s.bundle, as);
  return s;
}

/** A hook entry running SCRIPT with (kind, record dir), as the container or the host sees the dir. */
function entry(s: Setup, script: string, kind: Kind, extra: Partial<{ env: string[]; timeout: number }> = {}) {
  const inside = kind === 'startContainer';
  return {
    path: inside ? `/${path.basename(script)}` : script,
    args: ['recorder', kind, inside ? '/rec' : s.rec],
    env: extra.env ?? ['PATH=/usr/bin:/bin', 'HOOK_VAR=value with spaces'],
    ...(extra.timeout !== undefined ? { timeout: extra.timeout } : { timeout: 10 }),
  };
}

const read = (s: Setup, f: string) => fs.readFileSync(path.join(s.rec, f), 'utf8');
const lines = (s: Setup, f: string) => read(s, f).split('\n').filter(Boolean);
const ns = (pid: number | string, n: string) => fs.readlinkSync(`/proc/${pid}/ns/${n}`);
const run = (s: Setup, args: string[], log?: string) =>
  chroci(['--root', s.root, ...(log ? ['--log', log, '--log-format', 'json'] : []), ...args], { as: s.as, cwd: s.bundle });

function stateOf(s: Setup, id: string): any {
  const r = run(s, ['state', id]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** Nothing of a failed create: no state, and no process of it (the pid its hooks saw). */
function expectNothingLeft(s: Setup, id: string, pids: number[] = []) {
  expect(fs.existsSync(path.join(s.root, id))).toBe(false);
  const list = run(s, ['list', '-q']);
  expect(list.stdout.split('\n')).not.toContain(id);
  for (const p of pids) expect(isAlive(p), `pid ${p}`).toBe(false);
}

describe.each(USERS)('as %s', (as) => {
  it('every kind runs once, in order, with its state, args, exactly its env, in its namespaces, its output on stderr and --log', async () => {
    const s = setup(as, (c, s) => {
      const rec = s.script('hook.sh', RECORDER);
      c.hooks = Object.fromEntries(KINDS.map((k) => [k, [entry(s, rec, k)]]));
    });
    const log = path.join(path.dirname(s.rec), 'log.json');
    const created = run(s, ['create', '--bundle', s.bundle, 'h1'], log);
    expect(created.status, created.stderr).toBe(0);
    // create's own hooks and createContainer's: their output reaches create's stderr.
    for (const k of ['prestart', 'createRuntime', 'createContainer']) {
      expect(created.stderr).toContain(`out of ${k}\n`);
      expect(created.stderr).toContain(`err of ${k}\n`);
    }
    expect(lines(s, 'order')).toEqual(['prestart', 'createRuntime', 'createContainer']);
    const st = stateOf(s, 'h1');
    expect(st.status).toBe('created');
    const started = run(s, ['start', 'h1'], log);
    expect(started.status, started.stderr).toBe(0);
    expect(started.stderr).toContain('out of startContainer\n');
    expect(started.stderr).toContain('err of poststart\n');
    await waitFor(() => stateOf(s, 'h1').status === 'stopped');
    const deleted = run(s, ['delete', 'h1'], log);
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(deleted.stderr).toContain('out of poststop\n');
    expect(lines(s, 'order')).toEqual([...KINDS]);

    // --log has every line, named after its hook.
    const logged = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).msg);
    for (const k of KINDS) expect(logged).toContain(`hooks.${k}[0]: out of ${k}`);

    const status: Record<Kind, string> = {
      prestart: 'creating',
      createRuntime: 'creating',
      createContainer: 'creating',
      startContainer: 'created',
      poststart: 'running',
      poststop: 'stopped',
    };
    const host = { mnt: ns('self', 'mnt'), net: ns('self', 'net') };
    for (const k of KINDS) {
      const state = JSON.parse(read(s, `${k}.stdin`));
      expect(() => validateState(state), k).not.toThrow();
      expect(state, k).toMatchObject({ id: 'h1', status: status[k], bundle: s.bundle, pid: k === 'poststop' ? 0 : st.pid });
      expect(lines(s, `${k}.argv`), k).toEqual([k, k === 'startContainer' ? '/rec' : s.rec]);
      // Exactly the hook's env: nothing of ours (PKG_EXECPATH, HOME, the caller's PATH).
      // (PWD and SHLVL are the recording shell's own, which it exports to cat.)
      const env = read(s, `${k}.env`)
        .split('\0')
        .filter((e) => e && !/^(PWD|SHLVL)=/.test(e));
      expect(env.sort(), k).toEqual(['HOOK_VAR=value with spaces', 'PATH=/usr/bin:/bin']);
      // No fd but stdio (and ls's own directory fd 3, which it reads /proc/self/fd through).
      const fds = lines(s, `${k}.fds`)
        .filter((l) => /^l[rwx-]{9}/.test(l))
        .map((l) => l.split(/\s+/)[8]);
      expect(
        fds.filter((fd) => !['0', '1', '2', '3'].includes(fd)),
        `${k}: ${read(s, `${k}.fds`)}`,
      ).toEqual([]);
      expect(read(s, `${k}.fds`), k).not.toMatch(/exec\.fifo/);
      const [mnt, net] = lines(s, `${k}.ns`);
      if (k === 'createContainer' || k === 'startContainer') {
        expect(mnt, k).not.toBe(host.mnt);
        expect(net, k).not.toBe(host.net);
      } else {
        expect([mnt, net], k).toEqual([host.mnt, host.net]);
      }
      expect(lines(s, `${k}.cwd`), k).toEqual([k === 'startContainer' ? '/' : s.bundle]);
    }
    // Both container-side hooks ran in the container's own mount and network namespaces.
    expect(lines(s, 'createContainer.ns').slice(0, 2)).toEqual(lines(s, 'startContainer.ns').slice(0, 2));
  });

  // (Its /proc/1/fd lists fd numbers to a hook with the same uid, root's: the
  // directory belongs to root when not dumpable; their targets need ptrace access.)
  it('a startContainer hook cannot reach the waiting container process (not dumpable: no ptrace access to its fds, environ, namespaces)', () => {
    const s = setup(as, (c, s) => {
      s.script(
        'probe.sh',
        `#!/bin/sh
readlink /proc/1/fd/0 > /dev/null 2>&1; echo "fd=$?" > /rec/probe
cat /proc/1/environ > /dev/null 2>&1; echo "environ=$?" >> /rec/probe
readlink /proc/1/ns/mnt > /dev/null 2>&1; echo "ns=$?" >> /rec/probe
`,
      );
      c.hooks = { startContainer: [{ path: '/probe.sh', env: ['PATH=/bin'] }] };
    });
    const r = run(s, ['run', '--bundle', s.bundle, 'h2']);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(s, 'probe')).toEqual(['fd=1', 'environ=1', 'ns=1']);
  });

  it.each(['prestart', 'createRuntime', 'createContainer'] as const)(
    'a failing %s hook fails create in one line, leaves no state and no process, and the poststop hooks run',
    (kind) => {
      const s = setup(as, (c, s) => {
        const rec = s.script('hook.sh', RECORDER);
        const fail = s.script('fail.sh', '#!/bin/sh\ncat > "$1/state"\necho failing >&2\nexit 3\n');
        c.hooks = {
          [kind]: [{ path: fail, args: ['fail', s.rec] }, entry(s, rec, 'startContainer')],
          poststop: [entry(s, rec, 'poststop')],
        };
      });
      const r = run(s, ['create', '--bundle', s.bundle, 'h3']);
      expect(r.status).toBe(1);
      const fail = path.join(path.dirname(s.rec), 'fail.sh');
      expect(r.stderr).toBe(`failing\nout of poststop\nerr of poststop\nch-run-oci: hooks.${kind}[0]: ${fail} exited with status 3\n`);
      const pid = JSON.parse(read(s, 'state')).pid;
      expect(pid).toBeGreaterThan(0);
      expectNothingLeft(s, 'h3', [pid]);
      expect(lines(s, 'order')).toEqual(['poststop']);
      expect(JSON.parse(read(s, 'poststop.stdin')).status).toBe('stopped');
    },
  );

  it.each(['prestart', 'createContainer'] as const)(
    'a %s hook past its timeout is killed with its process group; create fails in one line',
    (kind) => {
      const s = setup(as, (c, s) => {
        const hang = s.script('hang.sh', '#!/bin/sh\ncat > "$1/state"\nsleep 60 &\necho $! > "$1/child"\nwait\n');
        c.hooks = { [kind]: [{ path: hang, args: ['hang', s.rec], timeout: 1 }] };
      });
      const t0 = Date.now();
      const r = run(s, ['create', '--bundle', s.bundle, 'h4']);
      expect(r.status).toBe(1);
      expect(Date.now() - t0).toBeLessThan(8000);
      expect(r.stderr).toBe(`ch-run-oci: hooks.${kind}[0]: ${path.dirname(s.rec)}/hang.sh timed out after 1 s\n`);
      const pid = JSON.parse(read(s, 'state')).pid;
      const child = Number(read(s, 'child'));
      // createContainer's child is in the container's pid namespace: its number there means nothing here.
      expectNothingLeft(s, 'h4', kind === 'prestart' ? [pid, child] : [pid]);
    },
  );

  it('a startContainer hook past its timeout or failing fails start in one line; the container is stopped and delete removes it', async () => {
    for (const [body, timeout, why] of [
      ['#!/bin/sh\nsleep 60\n', 1, 'timed out after 1 s'],
      ['#!/bin/sh\necho no >&2\nexit 4\n', 10, 'exited with status 4'],
    ] as const) {
      const s = setup(as, (c, s) => {
        s.script('start.sh', body);
        c.hooks = { startContainer: [{ path: '/start.sh', timeout }] };
      });
      expect(run(s, ['create', '--bundle', s.bundle, 'h5']).status).toBe(0);
      const r = run(s, ['start', 'h5']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^(no\\n)?ch-run-oci: hooks\\.startContainer\\[0\\]: /start\\.sh ${why}\\n$`));
      await waitFor(() => stateOf(s, 'h5').status === 'stopped');
      expect(run(s, ['delete', 'h5']).status).toBe(0);
    }
  });

  it('failing poststart and poststop hooks are warnings: start and delete succeed and the next hooks run', async () => {
    const s = setup(as, (c, s) => {
      const rec = s.script('hook.sh', RECORDER);
      const fail = s.script('fail.sh', '#!/bin/sh\nexit 5\n');
      c.hooks = { poststart: [{ path: fail }, entry(s, rec, 'poststart')], poststop: [{ path: fail }, entry(s, rec, 'poststop')] };
    });
    const fail = path.join(path.dirname(s.rec), 'fail.sh');
    expect(run(s, ['create', '--bundle', s.bundle, 'h6']).status).toBe(0);
    const started = run(s, ['start', 'h6']);
    expect(started.status).toBe(0);
    expect(started.stderr).toContain(`ch-run-oci: warning: hooks.poststart[0]: ${fail} exited with status 5\n`);
    await waitFor(() => stateOf(s, 'h6').status === 'stopped');
    const deleted = run(s, ['delete', 'h6']);
    expect(deleted.status).toBe(0);
    expect(deleted.stderr).toContain(`ch-run-oci: warning: hooks.poststop[0]: ${fail} exited with status 5\n`);
    expect(lines(s, 'order')).toEqual(['poststart', 'poststop']);
  });

  it('create killed during the hook pause takes the waiting container with it; delete cleans up', async () => {
    const s = setup(as, (c, s) => {
      const killer = s.script('killer.sh', '#!/bin/sh\ncat > "$1/state"\nkill -9 $PPID\nsleep 1\n');
      c.hooks = { prestart: [{ path: killer, args: ['killer', s.rec], timeout: 10 }] };
    });
    const r = run(s, ['create', '--bundle', s.bundle, 'h8']);
    expect(r.status).not.toBe(0);
    const pid = JSON.parse(read(s, 'state')).pid;
    await waitFor(() => !isAlive(pid));
    expect(stateOf(s, 'h8').status).toBe('stopped');
    expect(run(s, ['delete', 'h8']).status).toBe(0);
    expectNothingLeft(s, 'h8', [pid]);
  });

  it('a hook that cannot be executed fails create naming it; a relative path is refused before anything runs', () => {
    const s = setup(as, (c) => {
      c.hooks = { createContainer: [{ path: '/nonexistent/hook' }] };
    });
    const r = run(s, ['create', '--bundle', s.bundle, 'h7']);
    expect(r.stderr).toBe('ch-run-oci: hooks.createContainer[0]: /nonexistent/hook: no such file or directory\n');
    expectNothingLeft(s, 'h7');
    const p = setup(as, (c) => {
      c.hooks = { prestart: [{ path: '/nonexistent/hook' }] };
    });
    expect(run(p, ['create', '--bundle', p.bundle, 'h7']).stderr).toBe(
      'ch-run-oci: hooks.prestart[0]: /nonexistent/hook: no such file or directory\n',
    );
    const rel = setup(as, (c) => {
      c.hooks = { poststop: [{ path: 'bin/true' }] };
    });
    const refused = run(rel, ['create', '--bundle', rel.bundle, 'h7']);
    expect(refused.stderr).toBe('ch-run-oci: config.json: /hooks/poststop/0/path: must be absolute\n');
    expectNothingLeft(rel, 'h7');
  });
});

// Docker 20.10+ gives every container with its own network namespace the
// prestart hook `docker-proxy … libnetwork-setkey ID CTRL`, which reads the
// state from stdin and configures the namespace of the pid in it. As root
// (Docker's case: the container process is not dumpable until execve, so only
// a caller with CAP_SYS_PTRACE over its own user namespace can enter it by pid).
describe('a prestart hook shaped like Docker’s libnetwork-setkey (root)', () => {
  it('reads the state, enters the network namespace by pid and configures it before the program runs', () => {
    const s = setup('root', (c, s) => {
      const hook = s.script(
        'setkey.sh',
        `#!/bin/sh
pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p')
nsenter -t "$pid" -n ip link set lo up
nsenter -t "$pid" -n readlink /proc/self/ns/net > "$1/hook-net"
`,
      );
      c.hooks = { prestart: [{ path: hook, args: ['libnetwork-setkey', s.rec], env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] }] };
      c.process.args = ['sh', '-c', 'readlink /proc/self/ns/net > /rec/net; cat /sys/class/net/lo/operstate > /rec/lo'];
    });
    const r = run(s, ['run', '--bundle', s.bundle, 'd1']);
    expect(r.status, r.stderr).toBe(0);
    expect(read(s, 'hook-net')).toBe(read(s, 'net'));
    expect(read(s, 'hook-net')).not.toBe(ns('self', 'net') + '\n');
    expect(read(s, 'lo').trim()).toMatch(/^(unknown|up)$/);
  });
});
