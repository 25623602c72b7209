// The record `create` keeps in <root>/<id>/state.json, and how it is read back.
import { UserError } from '../errors';
import type { CgroupRecord } from '../cgroups/manager';
import type { Hooks } from '../spec/types';

/** What `create` records. Free to grow: extra fields are kept as written. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** The container process as seen by the host; absent until the runner reported it. */
  pid?: number;
  /** Field 22 of /proc/PID/stat when pid was recorded: tells pid reuse apart. */
  pidStartTime?: string;
  /** Absolute bundle path. */
  bundle: string;
  rootfs: string;
  /** RFC 3339. */
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /**
   * The `create` process and its start time, recorded before the container
   * process exists: if create dies before recording pid, status says
   * `stopped` (so delete can clean up) instead of `creating` forever.
   */
  creatorPid?: number;
  creatorStartTime?: string;
  /** Namespace notes the lifecycle keeps (free-form). */
  ns?: Record<string, string>;
  /** The session keyring the container joined (its id), absent with --no-new-keyring. */
  keyring?: string;
  /** The container's cgroups, recorded by create as they are made (see src/cgroups/manager.ts). */
  cgroup?: CgroupRecord;
  /** The config's hooks: start and delete run theirs from here (see container/hooks.ts). */
  hooks?: Hooks;
  [extra: string]: unknown;
}

export function placeholder(id: string): ContainerRecord {
  return { ociVersion: '', id, bundle: '', rootfs: '', created: '', owner: '', annotations: {} };
}

export function parseRecord(id: string, file: string, text: string): ContainerRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const rec = value as ContainerRecord | undefined;
  if (!rec || typeof rec !== 'object' || Array.isArray(rec) || typeof rec.id !== 'string') {
    throw new UserError(`container "${id}"`, `state file ${file} is corrupt (not a state record)`);
  }
  if (!rec.annotations || typeof rec.annotations !== 'object') rec.annotations = {};
  return rec;
}
