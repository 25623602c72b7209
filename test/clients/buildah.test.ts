// buildah bud and buildah run with RUNTIME, as root (--isolation=oci) and as
// both test users (buildah's default rootless isolation: the runtime then
// runs inside buildah's user namespace).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BUSYBOX,
  DEBIAN,
  RUNTIME,
  WHO,
  type Who,
  buildah,
  buildahStates,
  descendsFrom,
  exited,
  pidsOf,
  run,
  scratch,
  show,
  start,
  waitFor,
  writeAs,
} from './helpers';

/** root needs --isolation=oci to use an OCI runtime at all; users keep the default. */
const isolation = (who: Who): string[] => (who === 'root' ? ['--isolation=oci'] : []);

/** ≥10 RUN steps; one leaves a file that must end up in the committed image. */
const MANY_STEPS = [
  `FROM ${BUSYBOX}`,
  ...Array.from({ length: 9 }, (_, i) => `RUN echo step-${i + 1}-output`),
  'RUN mkdir -p /out && echo built-by-run > /out/made && id -u > /out/uid',
  'RUN test "$(cat /out/made)" = built-by-run',
  '',
].join('\n');

/** Reads FILE from IMAGE's layers without running a container (so without the runtime). */
function fileInImage(who: Who, image: string, file: string): string {
  const script = `set -e; c=$(buildah from -q ${image}); m=$(buildah mount "$c"); cat "$m${file}"; buildah umount "$c" >/dev/null; buildah rm "$c" >/dev/null`;
  // Users need buildah's namespace to mount; root does not (and buildah
  // unshare as root fails here: "memfd_create(): Invalid argument").
  const r = run(who, who === 'root' ? ['sh', '-c', script] : ['buildah', 'unshare', 'sh', '-c', script]);
  expect(r.status, show(r)).toBe(0);
  return r.stdout;
}

describe.each(WHO)('buildah as %s', (who) => {
  const dirs: string[] = [];
  const images: string[] = [];
  afterAll(() => {
    if (images.length) run(who, ['buildah', 'rmi', '-f', ...images]);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  function context(dockerfile: string): string {
    const dir = scratch(who);
    dirs.push(dir);
    writeAs(who, path.join(dir, 'Dockerfile'), dockerfile);
    return dir;
  }

  function bud(dockerfile: string, extra: string[], env?: Record<string, string>) {
    const dir = context(dockerfile);
    const tag = `localhost/chroci-bud-${path.basename(dir).toLowerCase()}`;
    images.push(tag);
    const r = buildah(who, ['bud', '--runtime', RUNTIME, ...isolation(who), ...extra, '-t', tag, dir], { cwd: dir, env });
    return { r, tag };
  }

  const networks: [string, string[], string][] =
    who === 'root'
      ? [
          ['default network, bundles in /var/tmp', [], '/var/tmp'],
          ['--network=host, bundles in /tmp', ['--network=host'], '/tmp'],
        ]
      : [
          ['default network, bundles in /var/tmp', [], '/var/tmp'],
          ['bundles in /tmp', [], '/tmp'],
        ];

  it.each(networks)('bud of 11 RUN steps (%s): succeeds, RUN output shows, the file is in the image', (_name, extra, tmp) => {
    const { r, tag } = bud(MANY_STEPS, extra, { TMPDIR: tmp });
    expect(r.status, show(r)).toBe(0);
    for (let i = 1; i <= 9; i++) expect(r.stdout + r.stderr).toContain(`step-${i}-output`);
    expect(fileInImage(who, tag, '/out/made')).toBe('built-by-run\n');
    // Inside the build the RUN steps are root, whoever runs buildah.
    expect(fileInImage(who, tag, '/out/uid')).toBe('0\n');
  });

  it("RUN sh -c 'exit 3' fails the build and buildah reports status 3", () => {
    const { r } = bud(`FROM ${BUSYBOX}\nRUN echo before-failure\nRUN sh -c 'exit 3'\nRUN echo never-reached\n`, []);
    expect(r.status, show(r)).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('before-failure');
    expect(r.stderr).toMatch(/exit status 3/);
    expect(r.stdout + r.stderr).not.toContain('never-reached');
  });

  it('bud FROM the debootstrap image runs its shell and tools', () => {
    const { r, tag } = bud(
      `FROM ${DEBIAN}\nRUN bash -c 'echo "debian $(cat /etc/debian_version)"' && dpkg-query -W dpkg > /dpkg.txt\n`,
      [],
    );
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(/debian \d+/);
    expect(fileInImage(who, tag, '/dpkg.txt')).toMatch(/^dpkg\t/);
  });

  describe('buildah run', () => {
    let ctr = '';
    beforeAll(() => {
      const from = buildah(who, ['from', '-q', BUSYBOX]);
      if (from.status !== 0) throw new Error(show(from));
      ctr = from.stdout.trim();
    });
    afterAll(() => {
      if (ctr) run(who, ['buildah', 'rm', ctr]);
    });

    it('stdin reaches the container and its output comes back', () => {
      const r = buildah(who, ['run', '--runtime', RUNTIME, ...isolation(who), ctr, '--', 'sh', '-c', 'cat; echo " and done"'], {
        input: 'hello from stdin',
      });
      expect(r.status, show(r)).toBe(0);
      expect(r.stdout).toBe('hello from stdin and done\n');
    });

    it("exit status of the command is buildah run's", () => {
      const r = buildah(who, ['run', '--runtime', RUNTIME, ...isolation(who), ctr, '--', 'sh', '-c', 'exit 5']);
      expect(r.status, show(r)).not.toBe(0);
      expect(r.stderr).toMatch(/exit status 5/);
    });

    it('SIGTERM to buildah run of sleep 1000 stops the container within 2 s, leaving no process and no state', async () => {
      const statesBefore = buildahStates(who);
      const child = start(who, ['buildah', 'run', '--runtime', RUNTIME, ...isolation(who), ctr, '--', 'sleep', '1000']);
      // Other sessions may run a sleep 1000 too: ours descends from this buildah.
      const ours = (): number[] => pidsOf(['sleep', '1000']).filter((p) => descendsFrom(p, child.pid ?? -1));
      let err = '';
      child.stderr?.on('data', (d) => (err += d));
      child.stdout?.resume();
      await waitFor('sleep 1000 to run', () => ours().length > 0, 20_000).catch((e) => {
        child.kill('SIGKILL');
        throw new Error(`${e.message}\n${err}`);
      });
      const pids = ours();
      const t0 = Date.now();
      child.kill('SIGTERM');
      await waitFor('sleep 1000 to be gone', () => pidsOf(['sleep', '1000']).every((p) => !pids.includes(p)), 2000).catch((e) => {
        for (const p of pids) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        // Which side was slow: buildah gone (killed by the TERM before it set up its
        // handler, a window buildah has after `start` returns) or still at work.
        const gone = child.exitCode !== null || child.signalCode !== null;
        throw new Error(
          `${e.message}; buildah ${gone ? `had exited (${child.exitCode ?? child.signalCode})` : 'was still running'}\n${err}`,
        );
      });
      expect(Date.now() - t0).toBeLessThanOrEqual(2000);
      // buildah itself must finish too (it reports the interruption and cleans up).
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const status = await exited(child);
      clearTimeout(timer);
      expect(status.signal, `buildah had to be killed\n${err}`).not.toBe('SIGKILL');
      // buildah deletes the container right after it is gone; allow it that moment.
      // Only states this run added count: other builds of the same user may come and go meanwhile.
      const added = () => buildahStates(who).filter((s) => !statesBefore.includes(s));
      await waitFor('no runtime state left', () => added().length === 0, 2000).catch(() => undefined);
      expect(added()).toEqual([]);
    });
  });
});
