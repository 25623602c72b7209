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

/** The host path to bind for d; throws naming the field when there is none. */
export function hostSourceFor(d: LinuxDevice, field: string, lookup: DeviceLookup): string {
  if (d.type === 'p') throw new UserError(field, 'a fifo device cannot be made without mknod; bind-mount a fifo instead');
  const type = d.type === 'b' ? 'b' : 'c'; // 'u' (unbuffered) is a character device
  if (d.major === undefined || d.minor === undefined) throw new UserError(field, `type ${d.type} needs major and minor`);
  const same = (n: HostNode | undefined) => n !== undefined && n.type === type && n.major === d.major && n.minor === d.minor;
  const here = lookup.at(d.path);
  if (same(here)) return d.path;
  const found = lookup.all().find(same);
  if (!found) throw new UserError(field, `no host device ${type} ${d.major}:${d.minor} to bind (device nodes cannot be made without privilege)`);
  return found.path;
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
