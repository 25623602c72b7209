// linux.devices: a user namespace cannot mknod a device, so each device the
// config asks for is a bind of a host node of the same type and number: the
// host node at the same path when it is that device (podman --device /dev/fuse,
// --privileged), else the first one found under /dev (--device /dev/null:/dev/x).
// Its mode and owner are the host node's: a bind cannot change them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import * as log from '../log';
import type { LinuxDevice } from '../spec/types';

export interface HostNode {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
}

/** How the host's device nodes are seen (injected by tests). */
export interface DeviceLookup {
  /** The device node at path, if it is one. */
  at(path: string): HostNode | undefined;
  /** Every device node under /dev, in a stable order. */
  all(): HostNode[];
}

/** The host node to bind for d; throws naming the field when there is none. */
export function hostSourceFor(d: LinuxDevice, field: string, lookup: DeviceLookup): HostNode {
  if (d.type === 'p') throw new UserError(field, 'a fifo device cannot be made without mknod; bind-mount a fifo instead');
  const type = d.type === 'b' ? 'b' : 'c'; // 'u' (unbuffered) is a character device
  if (d.major === undefined || d.minor === undefined) throw new UserError(field, `type ${d.type} needs major and minor`);
  const same = (n: HostNode | undefined) => n !== undefined && n.type === type && n.major === d.major && n.minor === d.minor;
  const here = lookup.at(d.path);
  if (here && same(here)) return here;
  const found = lookup.all().find(same);
  if (!found)
    throw new UserError(field, `no host device ${type} ${d.major}:${d.minor} to bind (device nodes cannot be made without privilege)`);
  return found;
}

function lstatQuiet(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

function nodeAt(p: string): HostNode | undefined {
  const st = lstatQuiet(p);
  return st && nodeOf(p, st);
}

function nodeOf(p: string, st: fs.Stats): HostNode | undefined {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  // Linux dev_t: major in bits 8-19 (and 32-43), minor in bits 0-7 and 20-31.
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { path: p, type: st.isBlockDevice() ? 'b' : 'c', major, minor };
}

/** The real host: /dev and its subdirectories one level down (dri, net, snd…), read once when needed. */
export function hostDevices(): DeviceLookup {
  let cache: HostNode[] | undefined;
  return {
    at: nodeAt,
    all() {
      if (cache) return cache;
      cache = [];
      const scan = (dir: string, depth: number) => {
        let names: string[];
        try {
          names = fs.readdirSync(dir).sort();
        } catch {
          return;
        }
        for (const name of names) {
          const p = path.join(dir, name);
          const st = lstatQuiet(p);
          if (!st) continue;
          const node = nodeOf(p, st);
          if (node) cache!.push(node);
          else if (depth > 0 && st.isDirectory()) scan(p, depth - 1);
        }
      };
      scan('/dev', 1);
      return cache;
    },
  };
}

/** Notes for the fields a bind cannot honour. */
export function noteIgnoredDeviceFields(d: LinuxDevice, field: string): void {
  const ignored = (['fileMode', 'uid', 'gid'] as const).filter((k) => d[k] !== undefined);
  if (ignored.length) log.debug(`${field}: ${ignored.join(', ')} ignored: a bound host node keeps its own`);
}

/** One `linux.resources.devices` rule, as the device cgroup reads it. */
export interface DeviceRule {
  allow: boolean;
  type?: string;
  major?: number | null;
  minor?: number | null;
  access?: string;
}

/**
 * Which device nodes the container may open, from `linux.resources.devices`
 * read as the device cgroup would (deny by default, then the rules in order,
 * the last one that matches a node deciding). ch-run-oci enforces it without
 * a device cgroup: the rootfs and every directory bind are mounted `nodev`
 * unless the rules allow every device; the nodes the config names itself
 * (linux.devices, binds of one node) open.
 */
export interface DevicePolicy {
  /** The rules end with every device allowed (podman --privileged). */
  allowsAll: boolean;
  allows(node: Pick<HostNode, 'type' | 'major' | 'minor'>): boolean;
}

const wildcard = (n: number | null | undefined): boolean => n === undefined || n === null || n < 0;
/** Only read and write matter: mknod is refused in a user namespace anyway. */
const opens = (r: DeviceRule): boolean => r.access === undefined || /[rw]/.test(r.access);

export function devicePolicy(rules: readonly DeviceRule[] | undefined): DevicePolicy {
  const list = (rules ?? []).filter(opens);
  const matches = (r: DeviceRule, n: Pick<HostNode, 'type' | 'major' | 'minor'>): boolean =>
    ((r.type ?? 'a') === 'a' || r.type === n.type) &&
    (wildcard(r.major) || r.major === n.major) &&
    (wildcard(r.minor) || r.minor === n.minor);
  const everyDevice = (r: DeviceRule): boolean => (r.type ?? 'a') === 'a' && wildcard(r.major) && wildcard(r.minor);
  let lastAll = -1;
  list.forEach((r, i) => {
    if (everyDevice(r)) lastAll = i;
  });
  const allowsAll = lastAll >= 0 && list[lastAll].allow && !list.slice(lastAll + 1).some((r) => !r.allow);
  return {
    allowsAll,
    allows(n) {
      let ok = false;
      for (const r of list) if (matches(r, n)) ok = r.allow;
      return ok;
    },
  };
}

/** The device rules of a config (`linux.resources.devices`). */
export function configDevicePolicy(config: { linux?: { resources?: Record<string, unknown> } }): DevicePolicy {
  const devices = config.linux?.resources?.devices;
  return devicePolicy(Array.isArray(devices) ? (devices as DeviceRule[]) : undefined);
}
