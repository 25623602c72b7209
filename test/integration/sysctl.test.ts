// linux.sysctl, end to end, with crun as the control where it can run the
// same config: values land in the container's own namespaces (never the
// host's), a joined network namespace gets them too, and what the container
// does not own is refused in one line.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProbe, probeBundle, runBundle, RUNTIMES, spawnArgv } from '../helpers/control';
import { asArgv, chroci, defaultEnv, EXE, scratch, type As } from '../helpers/runtime';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-sysctl-'));
let probe: string;
beforeAll(() => {
  probe = buildProbe(tmp);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const USERS: As[] = ['root', 'user'];
const host = (p: string) => fs.readFileSync(`/proc/sys/${p}`, 'utf8');

function both(as: As, script: string, edit: (c: any) => void) {
  const [ours, crun] = RUNTIMES.map((rt) => runBundle(rt, as, probeBundle(as, probe, script, edit)));
  expect(ours.stdout, `ch-run-oci stderr: ${ours.stderr}\ncrun stderr: ${crun.stderr}`).toBe(crun.stdout);
  expect(ours.status).toBe(crun.status);
  return ours;
}

/** No CAP_NET_BIND_SERVICE: binding port 80 then depends on ip_unprivileged_port_start alone. */
const dropBind = (c: any) => {
  for (const set of Object.keys(c.process.capabilities))
    c.process.capabilities[set] = c.process.capabilities[set].filter((x: string) => x !== 'CAP_NET_BIND_SERVICE');
};

describe.each(USERS)('as %s', (as) => {
  it("podman's ping_group_range and ipc sysctls are set in the container, the host keeps its own", () => {
    const before = [host('net/ipv4/ping_group_range'), host('kernel/shmmax'), host('kernel/msgmax'), host('fs/mqueue/msg_max')];
    const r = both(
      as,
      'cat /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max',
      (c) => {
        c.linux.sysctl = {
          'net.ipv4.ping_group_range': '0 0',
          'kernel.shmmax': '12345',
          'kernel.msgmax': '4096',
          'fs.mqueue.msg_max': '20',
        };
      },
    );
    expect(r.stdout).toBe('0\t0\n12345\n4096\n20\n');
    expect([host('net/ipv4/ping_group_range'), host('kernel/shmmax'), host('kernel/msgmax'), host('fs/mqueue/msg_max')]).toEqual(before);
  });

  it('net.ipv4.ip_unprivileged_port_start=0 lets a process without CAP_NET_BIND_SERVICE bind port 80', () => {
    const without = both(as, 'probe bind80', dropBind);
    expect(without.stdout).toBe('bind80=-1 EACCES\n');
    const withIt = both(as, 'probe bind80', (c) => {
      dropBind(c);
      c.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '0' };
    });
    expect(withIt.stdout).toBe('bind80=0\n');
  });

  it("kernel.domainname and kernel.hostname are set in the container's uts namespace", () => {
    const r = runBundle(
      'ch-run-oci',
      as,
      probeBundle(as, probe, 'cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname', (c) => {
        c.hostname = 'field';
        c.linux.sysctl = { 'kernel.hostname': 'fromsysctl', 'kernel.domainname': 'example.org' };
      }),
    );
    expect(r.stdout).toBe('fromsysctl\nexample.org\n');
  });

  it("user.* limits apply to the container's own user namespace", () => {
    const r = runBundle(
      'ch-run-oci',
      as,
      probeBundle(as, probe, 'cat /proc/sys/user/max_user_namespaces', (c) => (c.linux.sysctl = { 'user.max_user_namespaces': '7' })),
    );
    expect(r.stdout).toBe('7\n');
  });

  it("a joined network namespace gets the sysctl too (podman's netns)", () => {
    // As rootless podman does: the caller is root in a user namespace of its
    // own, which owns the network namespace the container joins (a plain user
    // may not setns into any network namespace from the host's user namespace).
    const bundle = probeBundle(as, probe, 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start', (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: 'NETNS' } : n));
      c.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '77' };
      // Inside `unshare -Ur` the caller's own id is 0.
      if (as === 'user') c.linux.uidMappings = c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    });
    const root = scratch(as);
    const script = [
      'unshare -n sleep 60 & holder=$!',
      'while [ "$(readlink /proc/$holder/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.05; done',
      `sed -i "s|NETNS|/proc/$holder/ns/net|" ${bundle}/config.json`,
      `${EXE} --root ${root} run --bundle ${bundle} joined; kill $holder`,
    ].join('\n');
    try {
      const r = spawnArgv(asArgv(as, as === 'user' ? ['unshare', '-Ur', 'sh', '-c', script] : ['sh', '-c', script], defaultEnv(as)));
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('77\n');
      expect(host('net/ipv4/ip_unprivileged_port_start')).not.toBe('77\n');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });

  it.each<[string, Record<string, string>, (c: any) => void, string]>([
    [
      'a host-wide sysctl',
      { 'kernel.panic': '1' },
      () => {},
      'config.json: /linux/sysctl/kernel.panic: only sysctls of a namespace the container owns can be set',
    ],
    [
      "a net sysctl in the host's network namespace",
      { 'net.ipv4.ip_forward': '1' },
      (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network')),
      'config.json: /linux/sysctl/net.ipv4.ip_forward: only sysctls of a namespace the container owns can be set',
    ],
    [
      'a path out of /proc/sys',
      { 'net/../../../etc/hostname': 'x' },
      () => {},
      'config.json: /linux/sysctl/net~1..~1..~1..~1etc~1hostname: only sysctls of a namespace the container owns can be set',
    ],
  ])('refuses %s in one line, leaving nothing', (_n, sysctl, edit, message) => {
    const root = scratch(as);
    const bundle = probeBundle(as, probe, 'true', (c) => {
      c.linux.sysctl = sysctl;
      edit(c);
    });
    try {
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'refused'], { as });
      expect(r.stderr).toBe(`ch-run-oci: ${message}\n`);
      expect(r.status).toBe(1);
      expect(fs.readdirSync(root)).not.toContain('refused');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });
});

describe('as root', () => {
  it("refuses a joined network namespace that is the caller's own", () => {
    const root = scratch('root');
    const bundle = probeBundle('root', probe, 'true', (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n));
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    });
    try {
      const r = chroci(['--root', root, 'run', '--bundle', bundle, 'refused'], { as: 'root' });
      expect(r.stderr).toBe(
        "ch-run-oci: linux.sysctl net.ipv4.ip_forward: not allowed in the caller's own network namespace (/proc/self/ns/net)\n",
      );
      expect(r.status).toBe(1);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });
});
