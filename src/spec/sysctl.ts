// Which `linux.sysctl` keys belong to a namespace a container can own (the
// same list runc accepts). Read by the policy table and the sysctl planner.
import type { NamespaceType, OciConfig } from './types';

/** The ipc namespace's sysctls outside fs.mqueue.*. */
const IPC_KEYS = [
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.msg_next_id',
  'kernel.sem',
  'kernel.sem_next_id',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
  'kernel.shm_next_id',
];
/** Set with sethostname/setdomainname (their /proc/sys files are writable by the host's root only). */
export const UTS_KEYS: Readonly<Record<string, 'hostname' | 'domainname'>> = {
  'kernel.hostname': 'hostname',
  'kernel.domainname': 'domainname',
};

/**
 * sysctl(8) names a key with dots or with slashes ("net/ipv4/ip_forward");
 * in the dotted form a slash stands for a dot inside one component
 * ("net.ipv4.conf.eth0/100.rp_filter" for the interface eth0.100). Returns the
 * components, or undefined for a name that is not a plain path below /proc/sys.
 */
export function sysctlComponents(key: string): string[] | undefined {
  const first = key.search(/[./]/);
  const parts = first >= 0 && key[first] === '/' ? key.split('/') : key.split('.').map((c) => c.replace(/\//g, '.'));
  if (parts.some((c) => c === '' || c === '.' || c === '..')) return undefined;
  return parts;
}

/** The dotted name (the one every message uses). */
export function sysctlName(key: string): string {
  const parts = sysctlComponents(key);
  return parts ? parts.map((c) => c.replace(/\./g, '/')).join('.') : key;
}

/** The namespace whose value the key sets, or undefined for a host-wide sysctl. */
export function sysctlNamespace(key: string): NamespaceType | undefined {
  const parts = sysctlComponents(key);
  if (!parts) return undefined;
  const name = sysctlName(key);
  if (parts[0] === 'net' && parts.length > 1) return 'network';
  if (IPC_KEYS.includes(name) || (parts[0] === 'fs' && parts[1] === 'mqueue' && parts.length > 2)) return 'ipc';
  if (name in UTS_KEYS) return 'uts';
  // The ucounts limits of the container's own user namespace (always a new one here).
  if (parts[0] === 'user' && parts.length > 1) return 'user';
  return undefined;
}

/** Why the container cannot set this key, or undefined if it can (namespace checks that need no system call). */
export function sysctlRefusal(config: OciConfig, key: string): string | undefined {
  const ns = sysctlNamespace(key);
  if (!ns) return "not in a namespace of the container's own (a host-wide setting)";
  if (ns === 'user') return undefined;
  const entry = (config.linux?.namespaces ?? []).find((n) => n.type === ns);
  if (!entry) return `the container shares the ${ns} namespace with the host`;
  if (ns === 'uts' && entry.path) return "the uts namespace is joined, not the container's own";
  return undefined;
}
