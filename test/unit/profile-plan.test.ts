// linux.seccomp → ProfilePlan → plan records, and linux.sysctl → which
// process writes what (pure planning; the integration tests run them).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors';
import { actionValue, planProfile } from '../../src/container/profile';
import { planSysctls } from '../../src/container/sysctl';
import { buildPlan } from '../../src/container/plan';
import { buildExecPlan } from '../../src/container/exec-plan';
import { parseIdMap } from '../../src/container/idmap';
import { planRecords } from '../../src/runner/protocol';
import { SHARED } from '../helpers/repo';
import { sysctlComponents, sysctlName, sysctlNamespace } from '../../src/spec/sysctl';
import { validateConfig } from '../../src/spec/validate';
import type { OciConfig, Seccomp } from '../../src/spec/types';

const ERRNO = 0x00050000;
const ALLOW = 0x7fff0000;

describe('actionValue', () => {
  it("gives libseccomp's values, with errnoRet (EPERM when absent) for ERRNO and TRACE", () => {
    expect(actionValue('SCMP_ACT_ALLOW', undefined, 'f')).toBe(ALLOW);
    expect(actionValue('SCMP_ACT_ERRNO', 38, 'f')).toBe(ERRNO | 38);
    expect(actionValue('SCMP_ACT_ERRNO', undefined, 'f')).toBe(ERRNO | 1);
    expect(actionValue('SCMP_ACT_ERRNO', null, 'f')).toBe(ERRNO | 1);
    expect(actionValue('SCMP_ACT_TRACE', 7, 'f')).toBe(0x7ff00007);
    expect(actionValue('SCMP_ACT_KILL', undefined, 'f')).toBe(0);
    expect(actionValue('SCMP_ACT_KILL_THREAD', undefined, 'f')).toBe(0);
    expect(actionValue('SCMP_ACT_KILL_PROCESS', undefined, 'f')).toBe(0x80000000);
    expect(actionValue('SCMP_ACT_TRAP', undefined, 'f')).toBe(0x00030000);
    expect(actionValue('SCMP_ACT_LOG', 5, 'f')).toBe(0x7ffc0000); // no data bits
  });
  it('refuses an errno the kernel would cut to 16 bits', () => {
    expect(() => actionValue('SCMP_ACT_ERRNO', 65536, 'linux.seccomp.syscalls[3]')).toThrow(
      new UserError('linux.seccomp.syscalls[3]: errnoRet', '65536 does not fit in 16 bits'),
    );
  });
});

describe('planProfile', () => {
  it('is undefined without a profile', () => {
    expect(planProfile(undefined)).toBeUndefined();
    expect(planProfile(null)).toBeUndefined();
  });

  it('keeps names, maps arches and flags, skips rules with the default action', () => {
    const p = planProfile({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['nope'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        { names: ['add_key'], action: 'SCMP_ACT_ERRNO', errnoRet: null, args: null },
        { names: null, action: 'SCMP_ACT_ALLOW' },
      ],
    })!;
    expect(p.defaultAction).toBe(ERRNO | 38);
    expect(p.arches).toEqual(['x86_64', 'x86', 'x32']);
    expect(p.flags).toEqual(['log', 'spec_allow', 'tsync']);
    expect(p.rules).toEqual([
      { action: ALLOW, name: 'read', conds: [] },
      { action: ALLOW, name: 'write', conds: [] },
      { action: ERRNO | 1, name: 'add_key', conds: [] },
    ]);
  });

  it('ANDs conditions on distinct arguments in one rule, as runc', () => {
    const p = planProfile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['clone'],
          action: 'SCMP_ACT_ERRNO',
          args: [
            { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
            { index: 2, value: 0xff, valueTwo: 3, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
      ],
    })!;
    expect(p.rules).toEqual([
      {
        action: ERRNO | 1,
        name: 'clone',
        conds: [
          { index: 0, op: 4, a: 1n, b: 0n },
          { index: 2, op: 7, a: 255n, b: 3n },
        ],
      },
    ]);
  });

  it('ORs conditions naming one argument twice (one rule each), as runc', () => {
    const p = planProfile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['personality', 'x'],
          action: 'SCMP_ACT_ERRNO',
          args: [
            { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 8, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    })!;
    expect(p.rules.map((r) => [r.name, r.conds.map((c) => c.a)])).toEqual([
      ['personality', [1n]],
      ['personality', [8n]],
      ['x', [1n]],
      ['x', [8n]],
    ]);
  });

  it('skips names no architecture has (a line break would forge a runner report line)', () => {
    const p = planProfile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['x\npid 1', 'mkdir', 'a b'], action: 'SCMP_ACT_ERRNO' }],
    })!;
    expect(p.rules.map((r) => r.name)).toEqual(['mkdir']);
  });

  it('asks libseccomp for a binary tree past 32 entries', () => {
    const syscalls = Array.from({ length: 33 }, (_, i) => ({ names: [`c${i}`], action: 'SCMP_ACT_ALLOW' }));
    expect(planProfile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls })!.flags).toEqual(['optimize']);
  });

  it('takes WAIT_KILLABLE_RECV without effect (it concerns notification listeners only)', () => {
    expect(planProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] })!.flags).toEqual([]);
  });

  it.each<[string, Seccomp, string]>([
    [
      'an argument past the sixth',
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['x'], action: 'SCMP_ACT_KILL', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }],
      },
      'linux.seccomp.syscalls[0].args[0].index: 6 is not an argument (0-5)',
    ],
    [
      'a value JSON cannot carry exactly',
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['x'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] }],
      },
      `linux.seccomp.syscalls[0].args[0].value: ${2 ** 60} cannot be used exactly (values above 2^53-1 lose precision in JSON)`,
    ],
    [
      'an empty syscall name',
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [''], action: 'SCMP_ACT_KILL' }] },
      'linux.seccomp.syscalls[0].names: an empty name is not a syscall',
    ],
    [
      'an architecture libseccomp 2.5 lacks',
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_M68K'] },
      'linux.seccomp.architectures[0]: SCMP_ARCH_M68K is not supported (libseccomp 2.5 does not know it)',
    ],
    ['NOTIFY', { defaultAction: 'SCMP_ACT_NOTIFY' }, 'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported'],
  ])('refuses %s', (_n, s, msg) => {
    expect(() => planProfile(s)).toThrow(new UserError(msg));
  });

  it('plans the default profiles of podman, buildah and Docker', () => {
    for (const f of ['podman-4.3-rootless-run.json', 'buildah-1.28-rootless-nosubuid.json', 'engines/docker-20.10-root-it.json']) {
      const c = JSON.parse(fs.readFileSync(path.join(SHARED, 'configs', f), 'utf8')) as OciConfig;
      const p = planProfile(c.linux!.seccomp)!;
      expect(p.rules.length, f).toBeGreaterThan(300);
      expect(p.arches, f).toEqual(['x86_64', 'x86', 'x32']);
    }
  });
});

describe('the profile records', () => {
  it('are scmp-default, scmp-arch, scmp-flag, then one scmp-rule per name and condition set', () => {
    const p = planProfile({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        {
          names: ['getppid'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 1, value: 9007199254740991, valueTwo: 2, op: 'SCMP_CMP_MASKED_EQ' }],
        },
      ],
    })!;
    const view = { pid: 5, startTime: '1', namespaces: [], uidMap: parseIdMap('0 0 10'), gidMap: parseIdMap('0 0 10'), setgroups: true };
    const plan = { ...buildExecPlan({ args: ['sh'], cwd: '/' } as never, view, { wait: false, preserveFds: 0 }), profile: p };
    expect(planRecords(plan).filter((r) => r[0].startsWith('scmp-'))).toEqual([
      ['scmp-default', String(ERRNO | 1)],
      ['scmp-arch', 'x86'],
      ['scmp-flag', 'log'],
      ['scmp-rule', String(ALLOW), 'getppid', '1:7:9007199254740991:2'],
    ]);
  });

  const config = {
    ociVersion: '1.0.2',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/', noNewPrivileges: true },
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }],
      seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
      sysctl: { 'net.ipv4.ping_group_range': '0 0', 'kernel.shmmax': '1' },
    },
  } as unknown as OciConfig;
  const caller = { euid: 1000, egid: 1000, uidMap: parseIdMap('0 0 4294967295'), gidMap: parseIdMap('0 0 4294967295'), canSetIds: false };

  it('come after the process settings in create (built at create, loaded last), sysctls before the rootfs', () => {
    const recs = planRecords(buildPlan(config, { bundle: '/b', rootfs: '/b/rootfs', stateDir: '/s', caller, wait: false, preserveFds: 0 }));
    const tags = recs.map((r) => r[0]);
    expect(tags.indexOf('sysctl')).toBeLessThan(tags.indexOf('rootfs'));
    expect(recs.filter((r) => r[0] === 'sysctl')).toEqual([
      ['sysctl', 'net.ipv4.ping_group_range', 'net/ipv4/ping_group_range', '0 0'],
      ['sysctl', 'kernel.shmmax', 'kernel/shmmax', '1'],
    ]);
    expect(tags.indexOf('scmp-default')).toBeGreaterThan(tags.indexOf('caps'));
    expect(tags.indexOf('scmp-rule')).toBeLessThan(tags.indexOf('args'));
  });

  it("reach exec too: the container's profile", () => {
    const view = { pid: 5, startTime: '1', namespaces: [], uidMap: parseIdMap('0 0 10'), gidMap: parseIdMap('0 0 10'), setgroups: true };
    const tags = planRecords(
      buildExecPlan({ args: ['sh'], cwd: '/' } as never, view, { seccomp: config.linux!.seccomp, wait: false, preserveFds: 0 }),
    ).map((r) => r[0]);
    expect(tags).toContain('scmp-default');
    expect(tags).toContain('scmp-rule');
    expect(
      planRecords(buildExecPlan({ args: ['sh'], cwd: '/' } as never, view, { wait: false, preserveFds: 0 })).map((r) => r[0]),
    ).not.toContain('scmp-default');
  });
});

describe('sysctl names', () => {
  it.each<[string, string[] | undefined, string | undefined]>([
    ['net.ipv4.ip_forward', ['net', 'ipv4', 'ip_forward'], 'network'],
    ['net/ipv4/conf/eth0.100/rp_filter', ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter'], 'network'],
    ['net.ipv4.conf.eth0/100.rp_filter', ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter'], 'network'],
    ['kernel.shmmax', ['kernel', 'shmmax'], 'ipc'],
    ['kernel.sem', ['kernel', 'sem'], 'ipc'],
    ['fs.mqueue.msg_max', ['fs', 'mqueue', 'msg_max'], 'ipc'],
    ['kernel.hostname', ['kernel', 'hostname'], 'uts'],
    ['user.max_user_namespaces', ['user', 'max_user_namespaces'], 'user'],
    ['kernel.panic', ['kernel', 'panic'], undefined],
    ['net', ['net'], undefined],
    ['net/../../etc/passwd', undefined, undefined],
    ['net...x', undefined, undefined],
    ['net.ipv4./..', undefined, undefined],
    ['', undefined, undefined],
  ])('%s', (key, parts, ns) => {
    expect(sysctlComponents(key)).toEqual(parts);
    expect(sysctlNamespace(key)).toBe(ns);
  });
  it('are reported in the dotted form', () => {
    expect(sysctlName('net/ipv4/conf/eth0.100/rp_filter')).toBe('net.ipv4.conf.eth0/100.rp_filter');
  });
});

describe('planSysctls', () => {
  const cfg = (sysctl: Record<string, string>, namespaces: { type: string; path?: string }[]) =>
    ({ linux: { sysctl, namespaces } }) as unknown as OciConfig;

  it('writes own namespaces from C2, joined ones from C1, hostname by sethostname', () => {
    const c = cfg({ 'net.ipv4.ping_group_range': '0 0', 'kernel.msgmax': '9', 'kernel.hostname': 'box', 'kernel.domainname': 'd.org' }, [
      { type: 'network', path: '/run/netns/x' },
      { type: 'ipc' },
      { type: 'uts' },
    ]);
    expect(planSysctls(c, [{ type: 'network', path: '/run/netns/x' }])).toEqual({
      own: [{ name: 'kernel.msgmax', path: 'kernel/msgmax', value: '9' }],
      joined: [{ name: 'net.ipv4.ping_group_range', path: 'net/ipv4/ping_group_range', value: '0 0' }],
      hostname: 'box',
      domainname: 'd.org',
    });
  });

  it("refuses a joined namespace that is the caller's own", () => {
    const c = cfg({ 'net.ipv4.ip_forward': '1' }, [{ type: 'network', path: '/proc/self/ns/net' }]);
    expect(() => planSysctls(c, [{ type: 'network', path: '/proc/self/ns/net' }])).toThrow(
      new UserError('linux.sysctl net.ipv4.ip_forward', "not allowed in the caller's own network namespace (/proc/self/ns/net)"),
    );
  });

  it('refuses what the policy refuses (a guard next to the writes)', () => {
    expect(() => planSysctls(cfg({ 'vm.swappiness': '1' }, []), [])).toThrow(
      /linux.sysctl vm.swappiness: not in a namespace of the container's own/,
    );
    expect(() => planSysctls(cfg({ 'kernel.shmmax': '1' }, []), [])).toThrow(/shares the ipc namespace with the host/);
  });

  it('kernel.hostname wins over the hostname field in the plan', () => {
    const c = {
      ...cfg({ 'kernel.hostname': 'fromsysctl' }, [{ type: 'uts' }]),
      hostname: 'field',
      root: { path: 'r' },
      process: { args: ['sh'], cwd: '/' },
    } as unknown as OciConfig;
    const caller = { euid: 0, egid: 0, uidMap: parseIdMap('0 0 4294967295'), gidMap: parseIdMap('0 0 4294967295'), canSetIds: true };
    expect(buildPlan(c, { bundle: '/b', rootfs: '/b/r', stateDir: '/s', caller, wait: false, preserveFds: 0 }).hostname).toBe('fromsysctl');
  });
});

describe('the schema', () => {
  it('takes the nulls Go clients send (the containers-common profile has "args": null)', () => {
    const c = {
      ociVersion: '1.0.2',
      root: { path: 'rootfs' },
      process: { args: ['sh'], cwd: '/' },
      linux: {
        seccomp: {
          defaultAction: 'SCMP_ACT_ERRNO',
          defaultErrnoRet: null,
          architectures: null,
          flags: null,
          syscalls: [
            { names: ['read'], action: 'SCMP_ACT_ALLOW', args: null, errnoRet: null, comment: '', includes: {}, excludes: {} },
            { names: null, action: 'SCMP_ACT_ALLOW' },
          ],
        },
      },
    };
    expect(() => validateConfig(c)).not.toThrow();
  });
});
