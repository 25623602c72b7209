// linux.sysctl → what the runner writes, and from which process.
//
// A sysctl file under /proc/sys shows the namespace of the process that opens
// it, whichever proc mount it is opened through. So the runner needs no proc
// of the container's: it writes through the /proc it still sees before the
// mounts, from the process that sits in the right namespace with the right
// privilege:
//   - `sysctl`: C2, before the mounts, for the namespaces the container
//     created (owned by its user namespace, where C2 holds every capability);
//   - `joined-sysctl`: C1, right after the joins and before the unshare, for
//     a joined network or ipc namespace (podman's netns): that one is owned by
//     the caller's user namespace, where only the caller's own privilege
//     counts. Values that name ids (ping_group_range) are then read in the
//     caller's user namespace.
// kernel.hostname and kernel.domainname become sethostname/setdomainname:
// their /proc/sys files are writable by the host's root only.
import * as fs from 'node:fs';
import { UserError } from '../errors';
import type { NamespaceType, OciConfig } from '../spec/types';
import type { SysctlPlan } from '../runner/plan';
import { sysctlComponents, sysctlName, sysctlNamespace, sysctlRefusal, UTS_KEYS } from '../spec/sysctl';

const NS_FILE: Partial<Record<NamespaceType, string>> = { network: 'net', ipc: 'ipc' };

/** dev:ino of a namespace file ("" when it cannot be read). */
function nsIdentity(path: string): string {
  try {
    const st = fs.statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return '';
  }
}

export function planSysctls(config: OciConfig, joins: { type: NamespaceType; path: string }[]): SysctlPlan {
  const plan: SysctlPlan = { own: [], joined: [] };
  for (const [key, value] of Object.entries(config.linux?.sysctl ?? {})) {
    const name = sysctlName(key);
    const field = `linux.sysctl ${name}`;
    // applyPolicy has refused these already; kept as a guard next to the writes.
    const why = sysctlRefusal(config, key);
    if (why) throw new UserError(field, why);
    const ns = sysctlNamespace(key)!;
    if (ns === 'uts') {
      plan[UTS_KEYS[name]] = value;
      continue;
    }
    const write = { name, path: sysctlComponents(key)!.join('/'), value };
    const join = joins.find((j) => j.type === ns);
    if (!join) {
      plan.own.push(write);
      continue;
    }
    // Joining our own namespace would set the host's value (runc refuses the same).
    const ours = nsIdentity(`/proc/self/ns/${NS_FILE[ns]}`);
    if (ours !== '' && nsIdentity(join.path) === ours)
      throw new UserError(field, `not allowed in the caller's own ${ns} namespace (${join.path})`);
    plan.joined.push(write);
  }
  return plan;
}
