import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors';
import { configureLog } from '../../src/log';
import { POLICY, applyPolicy, policyRows } from '../../src/spec/policy';
import type { OciConfig } from '../../src/spec/types';
import { useValidators, validateConfig } from '../../src/spec/validate';
import { REPO } from '../helpers/repo';
import { ourValidators, sharedConfigs } from './spec-validators';

function config(edit: (c: any) => void = () => {}): OciConfig {
  const c: any = {
    ociVersion: '1.1.0',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/' },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'user' }] },
  };
  edit(c);
  return c as OciConfig;
}

let notes: string[];
beforeEach(() => {
  notes = [];
  configureLog({ debug: true, file: undefined });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
    notes.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  configureLog({ debug: false });
});

describe('the policy table', () => {
  it('gives every row a path, a fate and a reason', () => {
    for (const row of policyRows()) {
      expect(row.path).toMatch(/^(\/|--)/);
      expect(['supported', 'ignored', 'error']).toContain(row.fate);
      expect(row.note.length).toBeGreaterThan(5);
    }
  });

  it('can detect every ignored or refused row in a config', () => {
    for (const row of POLICY) if (row.fate !== 'supported') expect(row.find, row.path).toBeTypeOf('function');
  });

  it('lists each row once', () => {
    const paths = policyRows().map((r) => r.path);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('decides every field the schemas define (top level, root, process, linux)', () => {
    const schema = (f: string) => JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', f), 'utf8'));
    const config = schema('config.schema.json');
    const defs = schema('defs.schema.json').definitions;
    const linux = schema('config-linux.schema.json');
    const fields = [
      ...Object.keys(config.properties)
        .filter((k) => !['root', 'process', 'linux'].includes(k))
        .map((k) => `/${k}`),
      ...Object.keys(config.properties.root.properties ?? {}).map((k) => `/root/${k}`),
      ...Object.keys(defs.process.properties).map((k) => `/process/${k}`),
      ...Object.keys(linux.properties).map((k) => `/linux/${k}`),
    ];
    // A row decides a field when its path (without the qualifier in parentheses) is the field, or lies on either side of it.
    const rows = policyRows().map((r) => r.path.split(' ')[0].split('/'));
    const matches = (row: string[], field: string[]) => row.slice(0, field.length).every((seg, i) => seg === '*' || seg === field[i]);
    const undecided = fields.filter((f) => {
      const parts = f.split('/');
      return !rows.some((r) => matches(r, parts) || matches(parts, r));
    });
    expect(undecided).toEqual([]);
  });

  it('accepts a plain config silently', () => {
    expect(() =>
      applyPolicy(
        config((c) => ((c.hostname = 'box'), (c.domainname = 'example.org'))),
        {},
      ),
    ).not.toThrow();
    expect(notes).toEqual([]);
  });
});

// Features ch-run-oci refuses, and the one line naming the field.
const ERRORS: [string, (c: any) => void, string | RegExp][] = [
  [
    'a relative hook path',
    (c) => (c.hooks = { poststop: [{ path: '/bin/true' }, { path: 'bin/true' }] }),
    'config.json: /hooks/poststop/1/path: must be absolute',
  ],
  [
    'a relative createRuntime hook path',
    (c) => (c.hooks = { prestart: [], createRuntime: [{ path: './x' }] }),
    'config.json: /hooks/createRuntime/0/path: must be absolute',
  ],
  ['Intel RDT', (c) => (c.linux.intelRdt = { closID: 'x' }), 'config.json: /linux/intelRdt: Intel RDT is not supported'],
  [
    'joining a user namespace',
    (c) => (c.linux.namespaces[3] = { type: 'user', path: '/proc/1/ns/user' }),
    'config.json: /linux/namespaces/3/path: joining an existing user namespace is not supported',
  ],
  [
    'joining a mount namespace',
    (c) => (c.linux.namespaces[1] = { type: 'mount', path: '/proc/1/ns/mnt' }),
    'config.json: /linux/namespaces/1/path: joining an existing mount namespace is not supported',
  ],
  [
    'time offsets without a time namespace',
    (c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } }),
    /^config.json: \/linux\/timeOffsets: offsets need a new time namespace/,
  ],
  [
    'time offsets with a joined time namespace',
    (c) => {
      c.linux.namespaces.push({ type: 'time', path: '/proc/1/ns/time' });
      c.linux.timeOffsets = { boottime: { secs: 5 } };
    },
    /^config.json: \/linux\/timeOffsets: offsets need a new time namespace/,
  ],
  [
    'a crun directive',
    (c) => (c.annotations = { 'io.container.manager': 'libpod', 'run.oci.hooks.stdin': '1' }),
    'config.json: /annotations/run.oci.hooks.stdin: crun directives are not supported by ch-run-oci',
  ],
  [
    'an unknown ch-run-oci directive',
    (c) => (c.annotations = { 'ch-run-oci.turbo': 'yes' }),
    'config.json: /annotations/ch-run-oci.turbo: unknown ch-run-oci directive',
  ],
  [
    'a bad fakeroot value',
    (c) => (c.annotations = { 'ch-run-oci.fakeroot': 'sometimes' }),
    'config.json: /annotations/ch-run-oci.fakeroot: must be "auto", "always" or "never"',
  ],
  [
    'an idmapped mount',
    (c) =>
      (c.mounts = [
        { destination: '/a' },
        { destination: '/b', source: '/b', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] },
      ]),
    'config.json: /mounts/1/uidMappings: idmapped mounts are not supported (they need privilege over the source filesystem)',
  ],
  [
    'personality flags',
    (c) => (c.linux.personality = { domain: 'LINUX32', flags: ['x'] }),
    'config.json: /linux/personality/flags: personality flags are not supported',
  ],
  [
    'SCMP_ACT_NOTIFY',
    (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
    /^config.json: \/linux\/seccomp\/syscalls\/0\/action: SCMP_ACT_NOTIFY is not supported/,
  ],
  [
    'SCMP_ACT_NOTIFY as default',
    (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY' }),
    /^config.json: \/linux\/seccomp\/defaultAction: SCMP_ACT_NOTIFY/,
  ],
  [
    'an architecture libseccomp 2.5 lacks',
    (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_LOONGARCH64'] }),
    /^config.json: \/linux\/seccomp\/architectures\/1: architecture not supported by libseccomp 2.5/,
  ],
  [
    'a seventh argument',
    (c) =>
      (c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }],
      }),
    'config.json: /linux/seccomp/syscalls/0/args/0/index: a syscall has 6 arguments (index 0-5)',
  ],
  [
    'a host-wide sysctl',
    (c) => (c.linux.sysctl = { 'kernel.panic': '1' }),
    'config.json: /linux/sysctl/kernel.panic: only sysctls of a namespace the container owns can be set',
  ],
  [
    'a net sysctl without a network namespace',
    (c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }),
    'config.json: /linux/sysctl/net.ipv4.ip_forward: only sysctls of a namespace the container owns can be set',
  ],
  [
    'an ipc sysctl without an ipc namespace',
    (c) => (c.linux.sysctl = { 'kernel.shmmax': '1' }),
    'config.json: /linux/sysctl/kernel.shmmax: only sysctls of a namespace the container owns can be set',
  ],
  [
    'kernel.hostname in a joined uts namespace',
    (c) => {
      c.linux.namespaces[2] = { type: 'uts', path: '/proc/1/ns/uts' };
      c.linux.sysctl = { 'kernel.hostname': 'x' };
    },
    'config.json: /linux/sysctl/kernel.hostname: only sysctls of a namespace the container owns can be set',
  ],
  [
    'a sysctl climbing out of /proc/sys',
    (c) => (c.linux.sysctl = { 'net/../../etc/passwd': 'x' }),
    'config.json: /linux/sysctl/net~1..~1..~1etc~1passwd: only sysctls of a namespace the container owns can be set',
  ],
  [
    'network devices (1.2)',
    (c) => (c.linux.netDevices = { eth1: { name: 'eth0' } }),
    'config.json: /linux/netDevices: moving network devices into the container needs privilege on the host',
  ],
];

describe('applyPolicy refuses', () => {
  it.each(ERRORS)('%s', (_name, edit, message) => {
    expect(() => applyPolicy(config(edit), {})).toThrow(typeof message === 'string' ? new UserError(message) : message);
  });
});

// Features ch-run-oci accepts without applying, and the debug note it leaves.
const IGNORED: [string, (c: any) => void, string][] = [
  ['a hook kind the runtime-spec does not have', (c) => (c.hooks = { futureHook: [{ path: 'x' }] }), '/hooks/futureHook'],
  [
    'a seccomp listener path without NOTIFY',
    (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }),
    '/linux/seccomp/listenerPath',
  ],
  [
    'WAIT_KILLABLE_RECV',
    (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }),
    '/linux/seccomp/flags/0',
  ],
  ['a kernel memory limit', (c) => (c.linux.resources = { memory: { kernel: 1 << 20 } }), '/linux/resources/memory/kernel'],
  ['a kernel TCP memory limit', (c) => (c.linux.resources = { memory: { kernelTCP: 1 << 20 } }), '/linux/resources/memory/kernelTCP'],
  ['an AppArmor profile', (c) => (c.process.apparmorProfile = 'container-default'), '/process/apparmorProfile'],
  ['an SELinux label', (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0'), '/process/selinuxLabel'],
  ['a mount label', (c) => (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0'), '/linux/mountLabel'],
  ["exec's CPU affinity on the container process", (c) => (c.process.execCPUAffinity = { final: '0' }), '/process/execCPUAffinity'],
  [
    'a hostname without a uts namespace',
    (c) => {
      c.hostname = 'box';
      c.linux.namespaces = [{ type: 'mount' }];
    },
    '/hostname',
  ],
  [
    'a hostname in a joined uts namespace',
    (c) => {
      c.hostname = 'box';
      c.linux.namespaces[2] = { type: 'uts', path: '/proc/1/ns/uts' };
    },
    '/hostname',
  ],
  [
    'a domain name without a uts namespace',
    (c) => {
      c.domainname = 'example.org';
      c.linux.namespaces = [{ type: 'mount' }];
    },
    '/domainname',
  ],
  ['a Windows username', (c) => (c.process.user = { uid: 0, gid: 0, username: 'x' }), '/process/user/username'],
  ['a windows object', (c) => (c.windows = { layerFolders: [] }), '/windows'],
];

describe('applyPolicy ignores, with a debug note', () => {
  it.each(IGNORED)('%s', (_name, edit, where) => {
    expect(() => applyPolicy(config(edit), {})).not.toThrow();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`^ch-run-oci: debug: ignoring ${where.replace(/\//g, '\\/')}: .+\n$`));
  });

  it('says nothing without --debug', () => {
    configureLog({ debug: false });
    applyPolicy(
      config((c) => (c.linux.resources = { pids: { limit: 10 } })),
      {},
    );
    expect(notes).toEqual([]);
  });

  it('treats empty lists and empty strings as not asking for anything', () => {
    applyPolicy(
      config((c) => {
        c.hooks = { prestart: [], poststop: [] };
        c.process.apparmorProfile = '';
        c.process.terminal = false;
        c.linux.sysctl = {};
      }),
      {},
    );
    expect(notes).toEqual([]);
  });
});

describe('applyPolicy accepts', () => {
  it.each([
    ['a time namespace', (c: any) => c.linux.namespaces.push({ type: 'time' })],
    [
      'a time namespace with offsets',
      (c: any) => {
        c.linux.namespaces.push({ type: 'time' });
        c.linux.timeOffsets = { boottime: { secs: 5 } };
      },
    ],
    ['a joined time namespace', (c: any) => c.linux.namespaces.push({ type: 'time', path: '/proc/1/ns/time' })],
    ['a scheduler', (c: any) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 5 })],
    ['an I/O priority', (c: any) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 7 })],
    ['a memory policy', (c: any) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' })],
    ['an empty exec CPU affinity', (c: any) => (c.process.execCPUAffinity = { initial: '', final: '' })],
  ])('%s, silently', (_name, edit) => {
    expect(() => applyPolicy(config(edit), {})).not.toThrow();
    expect(notes).toEqual([]);
  });

  it('the informational annotations podman always sends', () => {
    const annotations = {
      'io.container.manager': 'libpod',
      'io.kubernetes.cri-o.Created': '2026-11-23T08:07:49.405909432Z',
      'io.kubernetes.cri-o.TTY': 'false',
      'io.podman.annotations.autoremove': 'TRUE',
      'io.podman.annotations.init': 'FALSE',
      'io.podman.annotations.privileged': 'FALSE',
      'io.podman.annotations.publish-all': 'FALSE',
      'org.opencontainers.image.stopSignal': '15',
    };
    expect(() =>
      applyPolicy(
        config((c) => (c.annotations = annotations)),
        {},
      ),
    ).not.toThrow();
    expect(notes).toEqual([]);
  });

  it.each(['auto', 'always', 'never'])('ch-run-oci.fakeroot=%s', (v) => {
    expect(() =>
      applyPolicy(
        config((c) => (c.annotations = { 'ch-run-oci.fakeroot': v })),
        {},
      ),
    ).not.toThrow();
  });

  it('every hook kind with an absolute path', () => {
    const hook = { path: '/usr/bin/hook', args: ['hook', 'x'], env: ['A=1'], timeout: 5 };
    const kinds = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
    expect(() =>
      applyPolicy(
        config((c) => (c.hooks = Object.fromEntries(kinds.map((k) => [k, [hook]])))),
        {},
      ),
    ).not.toThrow();
    expect(notes).toEqual([]);
  });

  it.each(['pid', 'network', 'ipc', 'uts', 'cgroup'])('joining a %s namespace by path', (type) => {
    const c = config((c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== type);
      c.linux.namespaces.push({ type, path: `/proc/1/ns/${type}` });
    });
    expect(() => applyPolicy(c, {})).not.toThrow();
    expect(notes).toEqual([]);
  });
});

describe('the client captures', () => {
  beforeEach(() => useValidators(ourValidators()));
  afterEach(() => useValidators(undefined));

  it.each(sharedConfigs().filter((c) => !c.name.includes('exec-process')))('%s passes validation and policy', ({ json }) => {
    const c = validateConfig(json);
    expect(() => applyPolicy(c, {})).not.toThrow();
  });
});
