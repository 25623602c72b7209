import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSpec } from '../../src/spec/defaults';
import { featuresDocument } from '../../src/spec/features';
import { applyPolicy } from '../../src/spec/policy';
import { useValidators, validateConfig, validateFeatures } from '../../src/spec/validate';
import { ourValidators, upstreamValidators } from './spec-validators';

beforeAll(() => useValidators(ourValidators()));
afterAll(() => useValidators(undefined));

describe('defaultSpec', () => {
  it.each([false, true])('rootless=%s passes our validation and policy', (rootless) => {
    const spec = JSON.parse(JSON.stringify(defaultSpec({ rootless })));
    expect(() => applyPolicy(validateConfig(spec), {})).not.toThrow();
  });

  it.each([false, true])('rootless=%s passes the upstream 1.2.1 schema', (rootless) => {
    const v = upstreamValidators('v1.2.1').config;
    expect(v(defaultSpec({ rootless })), JSON.stringify(v.errors)).toBe(true);
  });

  it('runs sh from rootfs as root of a user namespace whose mapping the runtime picks, without a terminal', () => {
    const s = defaultSpec({ rootless: false, uid: 1234, gid: 567 });
    expect(s.root.path).toBe('rootfs');
    expect(s.process.args).toEqual(['sh']);
    expect(s.process.terminal).toBe(false);
    expect(s.process.cwd).toBe('/');
    expect(s.process.env?.some((e) => e.startsWith('PATH='))).toBe(true);
    expect(s.process.env).toContain('TERM=xterm');
    // No mappings: whoever runs it is mapped (all ids for root, its own id otherwise).
    expect(s.linux?.uidMappings).toBeUndefined();
    expect(s.linux?.gidMappings).toBeUndefined();
    expect(defaultSpec({ rootless: true, uid: 1234, gid: 567 }).linux?.uidMappings).toEqual([{ containerID: 0, hostID: 1234, size: 1 }]);
    expect(s.linux?.namespaces?.map((n) => n.type).sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'user', 'uts']);
    expect(s.mounts?.map((m) => `${m.destination} ${m.type}`)).toEqual([
      '/proc proc',
      '/dev tmpfs',
      '/dev/pts devpts',
      '/dev/shm tmpfs',
      '/dev/mqueue mqueue',
      '/sys sysfs',
    ]);
    expect(s.mounts?.find((m) => m.destination === '/sys')?.options).toContain('ro');
    expect(s.linux?.maskedPaths).toContain('/proc/kcore');
    expect(s.linux?.readonlyPaths).toContain('/proc/sys');
  });

  it('uses the caller ids by default', () => {
    const s = defaultSpec({ rootless: true });
    expect(s.linux?.uidMappings?.[0].hostID).toBe(process.getuid!());
    expect(s.linux?.gidMappings?.[0].hostID).toBe(process.getgid!());
  });

  it('--rootless: no network namespace, /sys bound read-only from the host, no cgroup mount', () => {
    const s = defaultSpec({ rootless: true });
    expect(s.linux?.namespaces?.map((n) => n.type)).not.toContain('network');
    expect(s.linux?.namespaces?.map((n) => n.type)).toContain('user');
    expect(s.mounts?.find((m) => m.destination === '/sys')).toEqual({
      destination: '/sys',
      type: 'none',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
    expect(s.mounts?.some((m) => m.type === 'cgroup' || m.type === 'cgroup2')).toBe(false);
    expect(s.linux?.resources).toBeUndefined();
  });
});

describe('featuresDocument', () => {
  const doc = featuresDocument({ version: '0.1.0' });

  it('validates against the upstream v1.1.0 and v1.2.1 features schemas', () => {
    for (const tag of ['v1.1.0', 'v1.2.1']) {
      const v = upstreamValidators(tag).features!;
      expect(v(doc), `${tag}: ${JSON.stringify(v.errors)}`).toBe(true);
    }
  });

  it('validates against our own features schema', () => {
    expect(() => validateFeatures(doc)).not.toThrow();
  });

  it('says what the policy says', () => {
    const linux = doc.linux as any;
    expect(doc.ociVersionMin).toBe('1.0.0');
    expect(doc.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect(linux.namespaces).toEqual(expect.arrayContaining(['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup']));
    expect(linux.namespaces).toContain('time');
    expect(linux.memoryPolicy.modes).toEqual(
      expect.arrayContaining(['MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_LOCAL', 'MPOL_WEIGHTED_INTERLEAVE']),
    );
    expect(linux.memoryPolicy.flags).toEqual(['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_NUMA_BALANCING']);
    expect(linux.seccomp.enabled).toBe(true);
    expect(linux.seccomp.actions).toContain('SCMP_ACT_ERRNO');
    expect(linux.seccomp.actions).not.toContain('SCMP_ACT_NOTIFY');
    expect(linux.seccomp.operators).toHaveLength(7);
    expect(linux.seccomp.archs).toEqual(
      expect.arrayContaining(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64']),
    );
    expect(linux.seccomp.supportedFlags).toEqual([
      'SECCOMP_FILTER_FLAG_TSYNC',
      'SECCOMP_FILTER_FLAG_LOG',
      'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
    ]);
    expect(linux.apparmor.enabled).toBe(false);
    expect(linux.selinux.enabled).toBe(false);
    expect(linux.intelRdt.enabled).toBe(false);
    expect(linux.mountExtensions.idmap.enabled).toBe(false);
    expect(linux.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: true });
    expect(linux.capabilities).toContain('CAP_SYS_ADMIN');
    expect(doc.mountOptions).toEqual(expect.arrayContaining(['ro', 'nosuid', 'rbind', 'rprivate']));
    expect((doc.annotations as Record<string, string>)['ch-run-oci.version']).toBe('0.1.0');
  });
});
