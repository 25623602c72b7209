// Which host processes belong to a container. Every container has its own
// user namespace, so "the container's processes" are exactly the processes in
// that namespace, whether or not a pid namespace was made.
import * as fs from 'node:fs';
import type { ContainerRecord } from '../state/record';
import { isRunning } from '../state/proc';

/** The user namespace of a process, e.g. "user:[4026532841]", or undefined if it is gone. */
export function userNamespaceOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/user`);
  } catch {
    return undefined;
  }
}

/**
 * Live pids of the container: its init first, then every other process in its
 * user namespace. Only while the init is alive: it pins the namespace, so its
 * inode number cannot have been reused by someone else's namespace. (Without
 * cgroups, processes that outlive the init of a container with no pid
 * namespace are out of reach; a pid namespace avoids that.)
 */
export function containerProcesses(record: ContainerRecord): number[] {
  const alive = record.pid !== undefined && record.pidStartTime !== undefined && isRunning(record.pid, record.pidStartTime);
  if (!alive) return [];
  const pids = [record.pid!];
  const ns = userNamespaceOf(record.pid!);
  if (!ns || ns !== record.ns?.user) return pids;
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === record.pid || pid === process.pid) continue;
    if (userNamespaceOf(pid) === ns) pids.push(pid);
  }
  return pids;
}
