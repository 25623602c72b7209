// A build inside a one-id container: ch-run-oci run by a process that is
// itself in a ch-run-oci container with the fake root. The kernel allows one
// seccomp listener per filter chain, so the inner fake root relies on the
// outer one instead of failing with EBUSY; and a fresh proc, refused under
// the outer container's masks, is replaced by a bind of the caller's /proc.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chroci, chownTree, makeBundle, scratch, testUser, EXE } from '../helpers/runtime';

/**
 * Runs the inner bundle with ch-run-oci inside an outer one-id ch-run-oci
 * container (the host's programs bound read-only, the executable and the
 * inner bundle at their own paths, buildah's default capabilities).
 */
function runNested(innerEdit: (c: any) => void, id: string): ReturnType<typeof chroci> {
  const as = 'user' as const;
  const u = testUser();
  const inner = makeBundle(as, innerEdit);
  const outer = scratch(as, 'chroci-outer-');
  const rootfs = path.join(outer, 'rootfs');
  for (const d of ['usr', 'etc', 'tmp', 'proc', 'dev', 'sys', path.dirname(EXE).slice(1), inner.slice(1)])
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  for (const l of ['bin', 'lib', 'lib64', 'sbin']) if (fs.existsSync(`/${l}`)) fs.symlinkSync(`usr/${l}`, path.join(rootfs, l));
  const bind = (d: string, ro = true) => ({ destination: d, type: 'bind', source: d, options: ['rbind', ro ? 'ro' : 'rw'] });
  const config =
    JSON.parse(chroci(['spec', '--rootless', '--bundle', outer], { as }).stdout || 'null') ??
    JSON.parse(fs.readFileSync(path.join(outer, 'config.json'), 'utf8'));
  config.root = { path: 'rootfs' };
  config.process.terminal = false;
  config.process.env = ['PATH=/usr/bin:/bin', 'TMPDIR=/tmp'];
  config.process.args = [EXE, '--root', '/tmp/st', '--debug', 'run', '--bundle', inner, id];
  // buildah's default capabilities: the inner runner writes its id maps with CAP_SETUID/SETGID.
  const caps = [
    'CAP_CHOWN',
    'CAP_DAC_OVERRIDE',
    'CAP_FOWNER',
    'CAP_FSETID',
    'CAP_KILL',
    'CAP_NET_BIND_SERVICE',
    'CAP_SETFCAP',
    'CAP_SETGID',
    'CAP_SETPCAP',
    'CAP_SETUID',
    'CAP_SYS_CHROOT',
  ];
  config.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
  config.process.noNewPrivileges = false;
  config.linux.uidMappings = [{ containerID: 0, hostID: u.uid, size: 1 }];
  config.linux.gidMappings = [{ containerID: 0, hostID: u.gid, size: 1 }];
  config.mounts = config.mounts.filter((m: any) => m.destination !== '/sys');
  // /tmp first: the inner bundle (under the tests' TMPDIR) is bound over it.
  config.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
  config.mounts.push(bind('/usr'), bind('/etc'), bind('/sys'), bind(path.dirname(EXE)), bind(inner, false));
  fs.writeFileSync(path.join(outer, 'config.json'), JSON.stringify(config));
  chownTree(outer, as);
  return chroci(['--root', path.join(outer, 'state'), 'run', '--bundle', outer, `out-${id}`], { as, timeout: 60_000 });
}

describe('builds inside a container (as the unprivileged user)', () => {
  it('a one-id container inside a one-id container: chown and set*id still succeed (one fake root answers)', () => {
    // Inner without a pid namespace: the fresh proc under the outer masks is the next test.
    const r = runNested((c) => {
      c.process.args = ['sh', '-c', 'touch /tmp/f; chown 5:5 /tmp/f; echo chown=$?; id -u'];
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    }, 'in1');
    expect(r.stderr).not.toMatch(/device or resource busy/);
    expect(r.stderr).toMatch(/enclosing fake root already answers/);
    expect(r.stdout).toBe('chown=0\n0\n');
    expect(r.status).toBe(0);
  });

  it("a fresh proc refused under the outer masks: the caller's /proc is bound instead, with a note; ch-run-oci.proc=fresh refuses", () => {
    const r = runNested((c) => {
      c.process.args = ['sh', '-c', 'test -r /proc/self/status && echo proc=ok'];
    }, 'in2');
    expect(r.stderr).toMatch(/\/proc: EPERM, taking the planned alternative \(a bind of \/proc\)/);
    expect(r.stdout).toBe('proc=ok\n');
    expect(r.status).toBe(0);
    const fresh = runNested((c) => {
      c.annotations = { 'ch-run-oci.proc': 'fresh' };
      c.process.args = ['true'];
    }, 'in3');
    expect(fresh.stderr).toMatch(/ch-run-oci: mount: proc on \/proc \(proc\): .*operation not permitted/);
    expect(fresh.status).not.toBe(0);
  });
});
