// What `ch-run-oci spec` writes: a config this runtime runs as the invoking
// user, laid out like runc's so that people who know runc find their way.
// Differences from runc's, each because of how ch-run-oci works:
// - a user namespace is always there (ch-run-oci never runs with host
//   privilege); without --rootless it carries no mappings, so the runtime maps
//   whoever runs the bundle (all ids for root, the caller's own id otherwise),
//   and devpts gets no gid=5 (unmapped for an ordinary user);
// - no terminal (not supported), no cgroup mount and no resources (runc has a
//   cgroup mount and a deny-all devices rule; without them the same bundle runs
//   for root and for users who can write no cgroup).
// --rootless follows runc's rootless layout: no network namespace (a new one
// would have no connectivity), /sys as a read-only rbind of the host's (sysfs
// can only be mounted by the owner of the network namespace).
import { OCI_VERSION_MAX } from './version';
import type { LinuxNamespace, Mount, OciConfig } from './types';

export interface DefaultSpecOptions {
  rootless: boolean;
  /** Host ids to map to container root; default: the caller's. */
  uid?: number;
  gid?: number;
}

const NOSUID_NOEXEC_NODEV = ['nosuid', 'noexec', 'nodev'];

export function defaultSpec(opts: DefaultSpecOptions): OciConfig {
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const gid = opts.gid ?? process.getgid?.() ?? 0;
  const sys: Mount = opts.rootless
    ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', ...NOSUID_NOEXEC_NODEV, 'ro'] }
    : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...NOSUID_NOEXEC_NODEV, 'ro'] };
  const namespaces: LinuxNamespace[] = [
    { type: 'pid' },
    ...(opts.rootless ? [] : [{ type: 'network' as const }]),
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'user' },
  ];
  return {
    ociVersion: OCI_VERSION_MAX,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'ch-run-oci',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...NOSUID_NOEXEC_NODEV, 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: NOSUID_NOEXEC_NODEV },
      sys,
    ],
    linux: {
      namespaces,
      // runc's rootless layout names the caller's ids; otherwise the runtime decides.
      ...(opts.rootless
        ? {
            uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
            gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
          }
        : {}),
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
        '/sys/devices/virtual/powercap',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
