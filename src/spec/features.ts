// The `features` document (runtime-spec features.md): what this runtime can do,
// derived from the policy table so that the two cannot disagree.
import { KNOWN_CAPABILITIES } from './capabilities';
import { MOUNT_FLAG_OPTIONS } from './mount-options';
import { CREATABLE_NAMESPACES, DIRECTIVE_PREFIX, DIRECTIVES, POLICY } from './policy';
import { MPOL_FLAGS, MPOL_MODES } from './sched';
import { SECCOMP_ACTIONS, SECCOMP_ARCHES, SECCOMP_FLAGS, SECCOMP_KNOWN_FLAGS, SECCOMP_OPERATORS } from './seccomp';
import { OCI_VERSION_MAX, OCI_VERSION_MIN } from './version';
import { HOOK_NAMES } from './types';

export interface FeaturesOptions {
  /** ch-run-oci's own version, published as an annotation. */
  version?: string;
}

export function featuresDocument(opts: FeaturesOptions = {}): Record<string, unknown> {
  const unsupported = (path: string) => POLICY.some((r) => r.path === path && r.fate !== 'supported');
  const annotations: Record<string, string> = {};
  if (opts.version !== undefined) annotations['ch-run-oci.version'] = opts.version;
  for (const [key, values] of Object.entries(DIRECTIVES)) annotations[key] = values.join('|');
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION_MAX,
    hooks: unsupported('/hooks/*') ? [] : [...HOOK_NAMES],
    mountOptions: [...MOUNT_FLAG_OPTIONS],
    annotations,
    // Our directives change how the container runs; callers that pass through
    // user annotations should filter them.
    potentiallyUnsafeConfigAnnotations: [DIRECTIVE_PREFIX],
    linux: {
      namespaces: [...CREATABLE_NAMESPACES],
      capabilities: [...KNOWN_CAPABILITIES],
      // cgroupfs on v1, v2 and hybrid hosts (src/cgroups); --systemd-cgroup paths are
      // converted to cgroupfs ones, systemd itself is never asked: no systemd support.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: !unsupported('/linux/seccomp'),
        actions: Object.keys(SECCOMP_ACTIONS),
        operators: Object.keys(SECCOMP_OPERATORS),
        archs: Object.keys(SECCOMP_ARCHES),
        knownFlags: [...SECCOMP_KNOWN_FLAGS],
        supportedFlags: Object.keys(SECCOMP_FLAGS),
      },
      apparmor: { enabled: !unsupported('/process/apparmorProfile') },
      selinux: { enabled: !unsupported('/process/selinuxLabel') },
      intelRdt: { enabled: !unsupported('/linux/intelRdt') },
      mountExtensions: { idmap: { enabled: !unsupported('/mounts/*/uidMappings') } },
      memoryPolicy: { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS) },
    },
  };
}
