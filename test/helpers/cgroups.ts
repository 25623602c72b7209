// cgroups in tests: where a container's cgroup is on this host, what is left
// under a test's parent cgroup, and the crun/runc control runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readHost, dirOf, V2, type Host } from '../../src/cgroups/host';
import { cgroupPaths } from '../../src/cgroups/paths';
import { defaultName } from '../../src/cgroups/paths';
import { spawnCaptured } from './runtime';

export function host(): Host {
  const h = readHost();
  if (!h) throw new Error('no cgroup file system on this host');
  return h;
}

/** Hierarchy key → the host directory of a relative (or absolute) cgroupsPath. */
export function cgroupDirs(cgroupsPath: string): Map<string, string> {
  const h = host();
  const paths = cgroupPaths(h, { path: cgroupsPath, isDefault: false });
  return new Map(h.hierarchies.map((x) => [x.key, dirOf(x, paths.get(x.key)!)!]));
}

export function dirFor(cgroupsPath: string, controller: string): string {
  const h = host();
  const x = h.mode === 'v2' ? h.hierarchies[0] : h.hierarchies.find((y) => y.controllers.includes(controller))!;
  return cgroupDirs(cgroupsPath).get(x.key)!;
}

/** Directories left anywhere under `parent` (relative to our cgroup), in any hierarchy. */
export function leftUnder(parent: string): string[] {
  const out: string[] = [];
  for (const dir of cgroupDirs(parent).values()) {
    if (!fs.existsSync(dir)) continue;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(path.join(dir, e.name));
  }
  return out;
}

/** Default cgroups (no cgroupsPath) of containers of state root `root`: any left? */
export function defaultLeftovers(root: string): string[] {
  const prefix = defaultName('', root);
  const out: string[] = [];
  for (const h of host().hierarchies) {
    const base = dirOf(h, h.key === V2 && host().mode === 'v2' ? path.posix.dirname(h.own) : h.own);
    if (!base) continue;
    for (const name of fs.readdirSync(base)) if (name.startsWith(prefix)) out.push(path.join(base, name));
  }
  return out;
}

/** rmdir a test's parent cgroup in every hierarchy (children first); what could not go. */
export function removeParent(parent: string): string[] {
  const stuck: string[] = [];
  const rm = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rm(path.join(dir, e.name));
    try {
      fs.rmdirSync(dir);
    } catch {
      stuck.push(dir);
    }
  };
  for (const dir of cgroupDirs(parent).values()) rm(dir);
  return stuck;
}

export function readTrim(file: string): string {
  return fs.readFileSync(file, 'utf8').trim();
}

/** A control runtime (crun, runc) on the same bundle: its `run`, exit status and output. */
export function control(rt: 'crun' | 'runc', root: string, bundle: string, id: string, timeout = 30_000) {
  return spawnCaptured([rt, '--root', root, 'run', '--bundle', bundle, id], { timeout });
}

/**
 * The bundle's config as the control runtimes take it: no user namespace (they
 * run as real root; ch-run-oci always makes one, mapping root to root), and a
 * version crun 1.8 knows.
 */
export function forControls(config: any): any {
  const c = JSON.parse(JSON.stringify(config));
  c.ociVersion = '1.0.2';
  c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'user');
  delete c.linux.uidMappings;
  delete c.linux.gidMappings;
  return c;
}
