// The fake-root proof (issue 5): as chroci-test, a user WITHOUT /etc/subuid
// (buildah gives the runtime a user namespace with one id), a Dockerfile that
// runs a real apt-get install and useradd builds with ch-run-oci, and the
// program it installed runs in the resulting image. apt-get reaches the
// configured Debian mirror from the build (buildah's default rootless
// network); nothing is fetched on the host beforehand.
//
// Control run (RUNTIME=crun): the same builds fail, and the errors are the
// ones recorded below — that difference is the feature. With subuids
// (chroci-sub) nothing is faked: chown to an id outside the range fails.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEBIAN, IS_CRUN, RUNTIME, buildah, run, scratch, show, writeAs, type Who } from './helpers';

// uuid-runtime's postinst adds the system user and group "uuidd" (adduser)
// and hands /var/lib/libuuid to them; it needs only libraries already in
// the minimal image plus adduser.
const APT = [
  `FROM ${DEBIAN}`,
  'RUN apt-get update && apt-get install -y --no-install-recommends uuid-runtime',
  'RUN uuidgen > /uuid.txt && id uuidd > /uuidd.txt',
  '',
].join('\n');
const USERADD = [`FROM ${DEBIAN}`, 'RUN useradd -m app && chown app /home/app && su app -c id > /su.txt', ''].join('\n');

// What crun says in the same builds (observed, Debian's crun 1.8 / buildah 1.28).
const CRUN_APT_ERROR = /setgroups 65534 failed|Failed to setgroups|seteuid 42 failed/;
const CRUN_USERADD_ERROR = /chown: changing ownership of '\/home\/app': Invalid argument/;

const images: [Who, string][] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const [who, tag] of images) run(who, ['buildah', 'rmi', '-f', tag]);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function bud(who: Who, dockerfile: string) {
  const dir = scratch(who, 'chroci-fakeroot-');
  dirs.push(dir);
  writeAs(who, path.join(dir, 'Dockerfile'), dockerfile);
  const tag = `localhost/chroci-fakeroot-${path.basename(dir).toLowerCase()}`;
  images.push([who, tag]);
  const r = buildah(who, ['bud', '--runtime', RUNTIME, '-t', tag, dir], { cwd: dir, timeout: 240_000 });
  return { r, tag };
}

/** Runs CMD in a container of IMAGE with the runtime under test; stdout. */
function runInImage(who: Who, image: string, cmd: string): string {
  const script = `set -e; c=$(buildah from -q ${image}); buildah run --runtime ${RUNTIME} "$c" -- sh -c '${cmd}'; buildah rm "$c" >/dev/null`;
  const r = run(who, ['sh', '-c', script], { timeout: 60_000 });
  expect(r.status, show(r)).toBe(0);
  return r.stdout;
}

describe('single id (chroci-test, no subuids)', () => {
  const who: Who = 'chroci-test';

  it('apt-get update && apt-get install of a package whose maintainer script adds a system user', { timeout: 300_000 }, () => {
    const { r, tag } = bud(who, APT);
    if (IS_CRUN) {
      expect(r.status, show(r)).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(CRUN_APT_ERROR);
      return;
    }
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Setting up uuid-runtime/);
    // The installed program runs in the resulting image; the user exists.
    const out = runInImage(who, tag, 'uuidgen; cat /uuid.txt /uuidd.txt');
    expect(out).toMatch(/^[0-9a-f-]{36}\n[0-9a-f-]{36}\nuid=\d+\(uuidd\) gid=\d+\(uuidd\)/);
    // buildah run applies its default seccomp profile on top of the fake-root filter.
    expect(runInImage(who, tag, 'grep ^Seccomp_filters: /proc/self/status')).toBe('Seccomp_filters:\t2\n');
  });

  it('useradd -m app && chown app /home/app && su app -c id', { timeout: 120_000 }, () => {
    const { r, tag } = bud(who, USERADD);
    if (IS_CRUN) {
      expect(r.status, show(r)).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(CRUN_USERADD_ERROR);
      return;
    }
    expect(r.status, show(r)).toBe(0);
    // su reads back the ids it set: the supervisor answers from the fake credentials.
    expect(runInImage(who, tag, 'cat /su.txt; stat -c %u /home/app')).toMatch(/^uid=1000\(app\) gid=1000\(app\) groups=1000\(app\)\n0\n$/);
  });
});

describe('several ids (chroci-sub, with subuids): nothing is faked', () => {
  it('chown to an id outside the mapped range fails as the kernel says', { timeout: 120_000 }, () => {
    const { r } = bud('chroci-sub', `FROM ${DEBIAN}\nRUN touch /f && chown 70000 /f\n`);
    expect(r.status, show(r)).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/chown: changing ownership of '\/f': Invalid argument/);
  });

  it('chown inside the range is real', { timeout: 120_000 }, () => {
    const { r, tag } = bud('chroci-sub', `FROM ${DEBIAN}\nRUN touch /f && chown 1234:1234 /f\n`);
    expect(r.status, show(r)).toBe(0);
    expect(runInImage('chroci-sub', tag, 'stat -c %u:%g /f')).toBe('1234:1234\n');
  });
});
