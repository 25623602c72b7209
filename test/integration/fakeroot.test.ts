// Fake root, end to end: the built executable on a busybox bundle with a small
// static probe (test/helpers/fakeroot-probe.c). As the unprivileged user
// without /etc/subuid (single-id namespace) chown, set*id and device mknod
// "succeed" and the process reads back the ids it set; as root (all ids
// mapped) nothing is faked; ch-run-oci.fakeroot=never turns it off.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileC } from '../helpers/repo';
import { chownTree, chroci, makeBundle, REPO, scratch, testUser, type As } from '../helpers/runtime';

let probe: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-fakeroot-'));
beforeAll(() => {
  probe = path.join(tmp, 'probe');
  compileC(probe, [path.join(REPO, 'test/helpers/fakeroot-probe.c')], { static: true });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs SCRIPT (sh -c) in a fresh writable busybox bundle; returns stdout, stderr, status. */
// What root needs to change owners and ids at all (runc's default spec has none of these).
const ID_CAPS = ['CAP_CHOWN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_MKNOD', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER'];

function runIn(as: As, script: string, o: { fakeroot?: string; pidns?: boolean; debug?: boolean; cwd?: string } = {}) {
  const bundle = makeBundle(as, (c) => {
    c.process.args = ['sh', '-c', script];
    c.root.readonly = false;
    for (const set of ['bounding', 'effective', 'permitted'])
      c.process.capabilities[set] = [...new Set([...c.process.capabilities[set], ...ID_CAPS])];
    if (o.fakeroot) c.annotations = { ...(c.annotations ?? {}), 'ch-run-oci.fakeroot': o.fakeroot };
    if (o.pidns === false) c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
  });
  const bin = path.join(bundle, 'rootfs/bin');
  fs.copyFileSync(probe, path.join(bin, 'probe'));
  fs.chmodSync(path.join(bin, 'probe'), 0o755);
  for (const applet of ['mknod', 'su']) if (!fs.existsSync(path.join(bin, applet))) fs.symlinkSync('busybox', path.join(bin, applet));
  chownTree(bundle, as);
  const root = scratch(as);
  const r = chroci([...(o.debug ? ['--debug'] : []), '--root', root, 'run', '--bundle', bundle, `fr-${path.basename(bundle).slice(-6)}`], {
    as,
    cwd: o.cwd,
  });
  fs.rmSync(bundle, { recursive: true, force: true });
  fs.rmSync(root, { recursive: true, force: true });
  return r;
}

/**
 * Supervisors (comm "chroci-fakeroot") started from directory CWD (the
 * runtime's cwd, which the supervisor keeps) that are still alive, after
 * giving them a moment to see the end. Other suites' containers may have
 * supervisors of their own running meanwhile.
 */
function supervisorsNow(cwd: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const status = fs.readFileSync(`/proc/${e}/status`, 'utf8');
      // A zombie has exited; reaping it is its new parent's business (init here).
      if (!/^Name:\s+chroci-fakeroot$/m.test(status) || /^State:\s+Z/m.test(status)) continue;
      if (fs.readlinkSync(`/proc/${e}/cwd`) === cwd) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function supervisorsLeft(cwd: string): Promise<number[]> {
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = supervisorsNow(cwd);
    if (!left.length) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  return left;
}

const CHOWN = 'touch /tmp/f && chown 1234:1234 /tmp/f; echo "chown=$?"; stat -c "owner=%u:%g" /tmp/f';
const MKNOD = 'probe mknod /tmp/c c; probe mknod /tmp/b b; probe mknod /tmp/p p; ls /tmp; stat -c "%n %F" /tmp/p';

// README: a setuid bit set before a chown; the kernel clears it on a real chown, and so does the faked one.
const SETUID_THEN_CHOWN = 'touch f && chmod 4755 f && chown 1000:1000 f; stat -c "%u:%g %a" f';

// Each line: "NAME MODE" after the chown of the case (see the test).
const CHOWN_RULES = [
  'cd /tmp',
  'touch suid sgidx sgid plain target && chmod 4755 suid target && chmod 2755 sgidx && chmod 2745 sgid && chmod 6755 plain',
  'mkdir dir && chmod 3755 dir',
  'ln -s target rel-link && ln -s /tmp/target abs-link',
  'chown 1 suid sgidx sgid dir && chown 1 /tmp/plain',
  'chown -h 1 rel-link',
  'stat -c "%n %a" suid sgidx sgid plain dir target',
  'chown 1 abs-link && stat -c "%n %a" target',
  'touch f1 f2 f3 f4 f5 f6 && chmod 4755 f1 f2 f3 f4 f5 f6 && ln -s f4 l4',
  'probe fchown f1; probe fchownat /tmp f2; probe fchownat / tmp/f3; probe fchownat /tmp l4 nofollow; probe tfchown f5; probe pfchown f6',
  'stat -c "%n %a" f1 f2 f3 f4 f5 f6',
].join(' && ');

describe('single-id (unprivileged user, no subuids): fake root by default', () => {
  it('what a build commits: a chowned file stays 0:0 and a setuid bit set before the chown goes, as with a real chown', () => {
    const r = runIn('user', SETUID_THEN_CHOWN, { debug: true });
    expect(r.stdout).toBe('0:0 755\n');
    expect(r.stderr).toMatch(/fakeroot: owners cannot be recorded with one id mapped/);
  });

  it("a faked chown clears what the kernel's would: setuid, group-executable setgid; not on directories or through chown -h", () => {
    const r = runIn('user', CHOWN_RULES);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'suid 755',
        'sgidx 755',
        'sgid 2745', // setgid without group execute: kept, as the kernel does
        'plain 755',
        'dir 3755',
        'target 4755', // chown -h changed the link, not its target
        'target 755', // through an absolute symlink, resolved inside the container
        'fchown=0',
        'fchownat=0',
        'fchownat=0',
        'fchownat=0',
        'tfchown=0',
        'pfchown=0',
        'f1 755',
        'f2 755',
        'f3 755',
        'f4 4755', // AT_SYMLINK_NOFOLLOW: the link, not its target
        'f5 755', // from a thread that is not the process's first
        'f6 4755', // fchown of an O_PATH fd changes nothing (the kernel's is EBADF)
        '',
      ].join('\n'),
    );
  });

  it("the chown emulation never reaches the host's files: absolute symlinks and .. resolve inside the container", () => {
    // The test user's own setuid file on the host, which it could clear itself.
    const dir = scratch('user');
    const host = path.join(dir, 'host-suid');
    fs.writeFileSync(host, '');
    const u = testUser();
    fs.chownSync(host, u.uid, u.gid);
    fs.chmodSync(host, 0o4755);
    const up = '../'.repeat(20) + host.slice(1);
    const calls = [`chown esc`, `chown ${host}`, `chown ${up}`, `fchownat /tmp esc`, `fchownat /tmp ${up}`, `fchownat / ${host.slice(1)}`];
    const r = runIn('user', `cd /tmp && ln -s ${host} esc && ${calls.map((c) => `probe ${c}`).join('; ')}; probe chownbad`);
    expect(r.stdout).toBe('chown=0\n'.repeat(3) + 'fchownat=0\n'.repeat(3) + 'chownbad=0\nchown=0\n');
    expect((fs.statSync(host).mode & 0o7777).toString(8)).toBe('4755');
  });

  it('chown succeeds and the file keeps its single owner', () => {
    const r = runIn('user', CHOWN);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('chown=0\n');
    expect(r.stdout).toContain('owner=0:0\n');
    expect(r.status).toBe(0);
  });

  it('su-like id changes succeed and are read back; the process stays the single id', () => {
    const r = runIn('user', 'probe ids; probe become 1000 1000; cat /proc/self/status | grep -E "^(Uid|Gid):";');
    expect(r.stdout).toContain('uids=0,0,0 gids=0,0,0');
    expect(r.stdout).toContain('setgroups=0\nsetresgid=0\nsetresuid=0\nuids=1000,1000,1000 gids=1000,1000,1000 groups=1000\n');
    // What the kernel says: still uid 0 (the caller's uid outside).
    expect(r.stdout).toMatch(/Uid:\s+0\s+0\s+0\s+0/);
    expect(r.status).toBe(0);
  });

  it('a 32-bit caller cannot bypass it: int 0x80 setuid32 is faked and getuid32 reads it back', () => {
    const r = runIn('user', 'probe i386 4321');
    expect(r.stdout).toBe('setuid32=0\ngetuid32=4321\n');
  });

  it('the x32 numbers are covered (x32 chown returns 0 even where the kernel has no x32 ABI)', () => {
    const r = runIn('user', 'touch /tmp/x; probe x32chown /tmp/x 55');
    expect(r.stdout).toBe('x32chown=0\n');
  });

  it('mknod of char and block devices "succeeds" without creating them; fifos are made for real', () => {
    const r = runIn('user', MKNOD);
    expect(r.stdout).toContain('mknod=0\nmknod=0\nmknod=0\n');
    expect(r.stdout).toContain('/tmp/p fifo\n');
    expect(r.stdout).not.toMatch(/^[cb]$/m);
  });

  it('--debug says it is active', () => {
    const r = runIn('user', 'true', { debug: true });
    expect(r.stderr).toMatch(/debug: fakeroot: active \(single-id user namespace\)/);
  });

  it('without a pid namespace too, and its supervisor exits with the container', async () => {
    const cwd = scratch('user');
    const r = runIn('user', 'probe become 7 7 | tail -1', { pidns: false, cwd });
    expect(r.stdout).toBe('uids=7,7,7 gids=7,7,7 groups=7\n');
    expect(await supervisorsLeft(cwd)).toEqual([]);
  });

  it("the supervisor is not one of the container's processes (ps) and holds none of its fds", async () => {
    const cwd = scratch('user');
    const root = scratch('user');
    const bundle = makeBundle('user', (c) => {
      c.process.args = ['sh', '-c', 'id -u >/dev/null; sleep 30'];
    });
    try {
      const run = chroci(['--root', root, 'run', '--detach', '--bundle', bundle, 'frps'], { as: 'user', cwd });
      expect(run.status, run.stderr).toBe(0);
      const pids: number[] = JSON.parse(chroci(['--root', root, 'ps', '--format', 'json', 'frps'], { as: 'user' }).stdout);
      expect(pids.length).toBe(1);
      const sup = supervisorsNow(cwd);
      expect(sup.length).toBe(1);
      expect(pids).not.toContain(sup[0]);
      const fds = fs.readdirSync(`/proc/${sup[0]}/fd`).map((f) => fs.readlinkSync(`/proc/${sup[0]}/fd/${f}`));
      expect(fds).toEqual(['anon_inode:seccomp notify']);
      expect(chroci(['--root', root, 'kill', 'frps', 'KILL'], { as: 'user' }).status).toBe(0);
      expect(await supervisorsLeft(cwd)).toEqual([]);
    } finally {
      chroci(['--root', root, 'delete', '--force', 'frps'], { as: 'user' });
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });

  it('ch-run-oci.fakeroot=never: chown and setresuid fail as the kernel says', () => {
    const r = runIn('user', `${CHOWN}; probe become 1000 1000`, { fakeroot: 'never', debug: true });
    expect(r.stdout).toContain('chown=1\n');
    expect(r.stderr).toMatch(/chown: \/tmp\/f: Invalid argument/);
    expect(r.stdout).toMatch(/setgroups=-1 EPERM\nsetresgid=-1 EINVAL\nsetresuid=-1 EINVAL/);
    expect(r.stderr).toMatch(/fakeroot: off \(ch-run-oci.fakeroot=never\)/);
  });
});

describe.runIf(process.geteuid?.() === 0)('multi-id (root): no fake root', () => {
  it('a real chown clears the setuid bit (what the fake root cannot do)', () => {
    expect(runIn('root', SETUID_THEN_CHOWN).stdout).toBe('1000:1000 755\n');
  });

  it('chown really changes the owner and id changes are real', () => {
    const r = runIn('root', `${CHOWN}; probe become 1000 1000; grep -E "^Uid:" /proc/self/status`, { debug: true });
    expect(r.stdout).toContain('chown=0\nowner=1234:1234\n');
    expect(r.stdout).toContain('setgroups=0\nsetresgid=0\nsetresuid=0\nuids=1000,1000,1000');
    expect(r.stderr).not.toMatch(/fakeroot/);
  });

  it('mknod of a device fails as the kernel says (no CAP_MKNOD over a user namespace)', () => {
    const r = runIn('root', 'probe mknod /tmp/c c');
    expect(r.stdout).toBe('mknod=-1 EPERM\n');
  });

  it('ch-run-oci.fakeroot=always fakes even here', () => {
    const r = runIn('root', `${CHOWN}; probe become 1000 1000 | tail -1; grep -E "^Uid:" /proc/self/status`, { fakeroot: 'always' });
    expect(r.stdout).toContain('chown=0\nowner=0:0\n');
    expect(r.stdout).toContain('uids=1000,1000,1000');
    expect(r.stdout).toMatch(/Uid:\s+0\s+0\s+0\s+0/);
  });
});
