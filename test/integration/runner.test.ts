// The native runner driven with real plans, as root and as an unprivileged
// user without /etc/subuid ranges. Each run goes through test/helpers/drive-runner.ts
// in its own process (planning uses the caller's real ids): launch in wait
// mode, release through the exec fifo like `start`, exit with the status.
import { spawnSync, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OciConfig } from '../../src/spec/types';
import { bundleTs } from '../helpers/repo';
import { REPO, asArgv, bundleAt, defaultEnv, testUser } from '../helpers/runtime';

let tmp: string;
let runner: string;
let driver: string;
let base: OciConfig;
let bundle: string;
let n = 0;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ch-runner-'));
  fs.chmodSync(tmp, 0o755);
  runner = path.join(tmp, 'ch-run-oci-runner');
  // The runner scripts/build made (one recipe), copied where the test user can run it.
  fs.copyFileSync(path.join(REPO, 'dist', 'runner', 'ch-run-oci-runner'), runner);
  fs.chmodSync(runner, 0o755);
  driver = path.join(tmp, 'drive.js');
  bundleTs(path.join(REPO, 'test/helpers/drive-runner.ts'), driver);
  bundle = bundleAt(path.join(tmp, 'bundle'));
  fs.chmodSync(bundle, 0o755); // the test user runs it too
  base = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as OciConfig;
  fs.writeFileSync(path.join(bundle, 'rootfs/etc/secret'), 'top secret\n');
}, 60_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  out: string;
  err: string;
  stateDir: string;
}

/** Runs `args` in a container made from the default config, changed by `edit`. */
function run(
  as: 'root' | 'user',
  args: string[],
  edit: (c: OciConfig) => void = () => {},
  extra: { env?: Record<string, string>; fds?: number[] } = {},
): Result {
  const c = structuredClone(base);
  c.process.args = args;
  // Let the runtime choose the mapping from the caller's ids (the defaults hard-code the creator's).
  delete c.linux!.uidMappings;
  delete c.linux!.gidMappings;
  edit(c);
  const id = `c${++n}`;
  const configFile = path.join(tmp, `${id}.json`);
  fs.writeFileSync(configFile, JSON.stringify(c));
  const stateDir = path.join(tmp, `${id}.state`);
  fs.mkdirSync(stateDir);
  const node = path.join(REPO, 'node_modules/.bin/node');
  const cmd = [node, driver, configFile, bundle, stateDir];
  const env = { CH_RUN_OCI_RUNNER: runner, ...extra.env };
  let r;
  if (as === 'user') {
    const u = testUser();
    fs.chownSync(stateDir, u.uid, u.gid);
    const argv = asArgv('user', cmd, { ...defaultEnv('user'), ...env });
    r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  } else {
    const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...(extra.fds ?? [])];
    r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 20_000, env, stdio });
  }
  return { code: r.status, out: r.stdout, err: r.stderr, stateDir };
}

function leftovers(marker: string): string[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
}

describe('runner', () => {
  for (const as of ['root', 'user'] as const) {
    describe(`as ${as}`, () => {
      it('runs as container root with the expected id map', () => {
        const r = run(as, ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map']);
        expect(r.err).toBe('');
        const [uid, gid, map] = r.out.split('\n');
        expect([uid, gid]).toEqual(['0', '0']);
        const host = as === 'root' ? '0 0 4294967295' : `0 ${testUser().uid} 1`;
        expect(map.trim().split(/\s+/).join(' ')).toBe(host);
        expect(r.code).toBe(0);
      });

      it('runs as process.user', () => {
        const r = run(as, ['id'], (c) => (c.process.user = { uid: 1234, gid: 1234 }));
        expect(r.out).toMatch(/^uid=1234 gid=1234/);
        expect(r.code).toBe(0);
      });

      it('sets the hostname in a new uts namespace', () => {
        const r = run(as, ['hostname'], (c) => (c.hostname = 'box-1'));
        expect(r.out).toBe('box-1\n');
      });

      it('is pid 1 of a new pid namespace with its own /proc', () => {
        const r = run(as, ['sh', '-c', 'echo $$; ls /proc | grep -E "^[0-9]+$" | sort -n | head -1']);
        expect(r.out).toBe('1\n1\n');
      });

      it('passes env exactly and runs in cwd (created when missing)', () => {
        const r = run(as, ['sh', '-c', 'pwd; env | sort'], (c) => {
          c.process.env = ['PATH=/bin', 'A=1', 'B=two words'];
          c.process.cwd = '/work/dir';
        });
        // sh adds PWD and SHLVL of its own; everything else comes from the config.
        const env = r.out
          .split('\n')
          .slice(1)
          .filter((l) => l && !/^(PWD|SHLVL|OLDPWD)=/.test(l));
        expect(r.out.split('\n')[0]).toBe('/work/dir');
        expect(env).toEqual(['A=1', 'B=two words', 'HOME=/root', 'PATH=/bin']); // HOME from the image's /etc/passwd
      });

      it('finds args[0] in the container PATH, and reports a missing one at create', () => {
        expect(run(as, ['true']).code).toBe(0);
        const r = run(as, ['no-such-program']);
        expect(r.code).toBe(99);
        expect(r.err).toContain('LAUNCH-ERROR: exec: "no-such-program": executable file not found in $PATH');
      });

      it('exits with the program status', () => {
        expect(run(as, ['sh', '-c', 'exit 3']).code).toBe(3);
      });

      it('hands the container only fds 0-2', () => {
        const r = run(as, ['ls', '/proc/self/fd']);
        // 3 is the directory ls itself is reading.
        expect(r.out.split(/\s+/).filter(Boolean)).toEqual(['0', '1', '2', '3']);
      });

      it('masks paths and makes read-only paths and the root read-only', () => {
        const r = run(
          as,
          ['sh', '-c', 'cat /etc/secret; echo "[$?]"; touch /x 2>/dev/null; echo "[$?]"; touch /proc/sys/x 2>/dev/null; echo "[$?]"'],
          (c) => {
            c.linux!.maskedPaths = ['/etc/secret', '/does/not/exist'];
            c.root.readonly = true;
          },
        );
        expect(r.out).toBe('[0]\n[1]\n[1]\n');
      });

      it('binds read-only and keeps the host untouched', () => {
        const hostDir = fs.mkdtempSync(path.join(tmp, 'ro-'));
        fs.chmodSync(hostDir, 0o777);
        fs.writeFileSync(path.join(hostDir, 'f'), 'hello\n');
        fs.chmodSync(path.join(hostDir, 'f'), 0o666);
        const r = run(as, ['sh', '-c', 'cat /data/f; echo bye > /data/f; echo "[$?]"'], (c) => {
          c.mounts!.push({ destination: '/data', type: 'bind', source: hostDir, options: ['rbind', 'ro'] });
        });
        expect(r.out).toBe('hello\n[1]\n');
        expect(fs.readFileSync(path.join(hostDir, 'f'), 'utf8')).toBe('hello\n');
      });

      it('mounts below a symlink inside the rootfs, never outside it', () => {
        const outside = path.join(tmp, `outside-${as}`);
        const link = path.join(bundle, `rootfs/escape-${as}`);
        fs.symlinkSync(outside, link);
        // The mount makes `outside` inside the rootfs; its first missing directory goes afterwards.
        const parts = outside.split('/').filter(Boolean);
        let made = '';
        for (let i = 1; i <= parts.length && !made; i++) {
          const p = path.join(bundle, 'rootfs', ...parts.slice(0, i));
          if (!fs.existsSync(p)) made = p;
        }
        try {
          const r = run(as, ['sh', '-c', `ls -d /escape-${as}/sub ${outside}/sub`], (c) => {
            c.mounts!.push({ destination: `/escape-${as}/sub`, type: 'tmpfs', source: 'tmpfs' });
          });
          expect(r.code).toBe(0);
          expect(fs.existsSync(outside)).toBe(false);
          expect(fs.existsSync(path.join(bundle, 'rootfs', outside, 'sub'))).toBe(true);
        } finally {
          fs.rmSync(link);
          if (made) fs.rmSync(made, { recursive: true, force: true });
        }
      });

      it('fails cleanly: one line naming the step, no fifo, no process left', () => {
        const marker = `sleep 4242${as === 'root' ? 1 : 2}`;
        const r = run(as, marker.split(' '), (c) => {
          c.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent/source', options: ['rbind'] });
        });
        expect(r.code).toBe(99);
        expect(r.err).toBe('LAUNCH-ERROR: mount: /data: source /nonexistent/source: no such file or directory\n');
        expect(fs.readdirSync(r.stateDir)).toEqual([]);
        expect(leftovers(marker)).toEqual([]);
      });

      it('exec joins the running container: same namespaces, root and process settings', () => {
        const script = 'echo $$ > /tmp/pid1; readlink /proc/self/ns/pid > /tmp/ns; hostname > /tmp/h; sleep 100';
        const edit = (c: OciConfig): void => {
          c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
          c.hostname = 'exec-box';
        };
        const r = run(as, ['sh', '-c', script], edit, {
          env: {
            EXEC: JSON.stringify([
              'sh',
              '-c',
              'cat /tmp/pid1 /tmp/h; readlink /proc/self/ns/pid | cmp - /tmp/ns && echo same-pidns; pwd; id -u; exit 4',
            ]),
          },
        });
        expect(r.err).toBe('');
        expect(r.out).toBe('1\nexec-box\nsame-pidns\n/\n0\n');
        expect(r.code).toBe(4);
      });

      it('exec: the runner refuses a target whose start time changed, or that shares our namespaces', () => {
        const reused = run(as, ['sleep', '100'], () => {}, { env: { EXEC: JSON.stringify(['true']), EXEC_TARGET: 'reused' } });
        expect(reused.err).toMatch(/^LAUNCH-ERROR: exec: container process \d+ is not running \(its pid names another process now\)\n$/);
        expect(reused.code).toBe(99);
        const self = run(as, ['sleep', '100'], () => {}, { env: { EXEC: JSON.stringify(['true']), EXEC_TARGET: 'self' } });
        expect(self.err).toMatch(/^LAUNCH-ERROR: exec: container process \d+ is in our own (user|mount) namespace: not a container\n$/);
        expect(self.code).toBe(99);
      });

      it('reports a failure inside the container set-up (bad tmpfs option)', () => {
        const r = run(as, ['true'], (c) => {
          c.mounts!.push({ destination: '/bad', type: 'tmpfs', source: 'tmpfs', options: ['size=nonsense'] });
        });
        expect(r.code).toBe(99);
        expect(r.err).toBe("LAUNCH-ERROR: mount: tmpfs on /bad (tmpfs): tmpfs: Bad value for 'size': invalid argument\n");
      });
    });
  }

  it('root: maps process.user and additional groups through the full id range', () => {
    const r = run('root', ['id'], (c) => (c.process.user = { uid: 1000, gid: 1000, additionalGids: [10, 20] }));
    expect(r.out.trim()).toBe('uid=1000 gid=1000 groups=10,20');
  });

  it('unprivileged: refuses mappings of ids the user does not own', () => {
    const r = run('user', ['true'], (c) => {
      c.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
      c.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    });
    expect(r.code).toBe(99);
    expect(r.err).toContain('LAUNCH-ERROR: linux.uidMappings: an unprivileged user can map only its own id');
  });

  it('applies rlimits, umask, capabilities and no_new_privs', () => {
    const r = run('user', ['sh', '-c', 'ulimit -n; umask; grep -E "^(Cap(Eff|Bnd)|NoNewPrivs)" /proc/self/status'], (c) => {
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 512 }];
      c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
      c.process.user = { uid: 0, gid: 0, umask: 0o077 };
      c.process.noNewPrivileges = true;
    });
    expect(r.out).toBe('512\n0077\nCapEff:\t0000000000000020\nCapBnd:\t0000000000000021\nNoNewPrivs:\t1\n');
  });

  it('without wait: the runner exits, the reported pid is the container', () => {
    const r = run('root', ['sh', '-c', 'sleep 0.2; echo done'], () => {}, { env: { NOWAIT: '1' } });
    expect(r.out).toBe('done\n');
    expect(r.code).toBe(0);
  });

  it('passes preserved fds through', () => {
    const file = path.join(tmp, 'fd3');
    fs.writeFileSync(file, 'via-fd\n');
    const fd = fs.openSync(file, 'r');
    try {
      const r = run('root', ['sh', '-c', 'cat <&3; ls /proc/self/fd | wc -l'], () => {}, { env: { PRESERVE: '1' }, fds: [fd] });
      expect(r.out.split(/\s+/).filter(Boolean)).toEqual(['via-fd', '5']);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('joins a namespace given by path; /sys falls back to a read-only bind', () => {
    const hostNet = fs.readlinkSync('/proc/self/ns/net');
    const r = run(
      'root',
      ['sh', '-c', 'readlink /proc/self/ns/net; ls /sys/class/net | grep -c lo; touch /sys/x 2>/dev/null; echo "[$?]"'],
      (c) => {
        c.linux!.namespaces = c.linux!.namespaces!.map((ns) =>
          ns.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : ns,
        );
      },
    );
    expect(r.err).toBe('');
    expect(r.out).toBe(`${hostNet}\n1\n[1]\n`);
  });

  it('maps a death by signal to 128+signal', () => {
    // Without a pid namespace the shell is not an init, so SIGKILL to itself works.
    const r = run('root', ['sh', '-c', 'kill -9 $$'], (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((ns) => ns.type !== 'pid');
    });
    expect(r.code).toBe(137);
  });

  it('sets oomScoreAdj, and refuses to lower it without privilege', () => {
    expect(run('user', ['cat', '/proc/self/oom_score_adj'], (c) => (c.process.oomScoreAdj = 100)).out).toBe('100\n');
    const r = run('user', ['true'], (c) => (c.process.oomScoreAdj = -100));
    expect(r.err).toBe('LAUNCH-ERROR: process.oomScoreAdj: write -100: permission denied\n');
  });
});
