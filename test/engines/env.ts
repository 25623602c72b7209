// Where the engine suite's private daemons live and which runtime it tests.
// Read by the global set-up (which starts the daemons) and by every test
// file (which talks to them): both derive the same paths from ENGINES_DIR,
// which the set-up exports before the test workers start.
import * as path from 'node:path';

import { resolveRuntime } from '../helpers/repo';

/** The runtime under test: env RUNTIME (a path, or runc/crun looked up in PATH); default the built executable. */
export const RUNTIME = resolveRuntime(process.env.RUNTIME);
/** The name Docker knows it by (`docker run --runtime NAME`); runc is dockerd's built-in one. */
export const RUNTIME_NAME = path.basename(RUNTIME);
export const IS_OURS = RUNTIME_NAME === 'ch-run-oci';
/** crun words some errors its own way; the few expectations that differ say so. */
export const IS_CRUN = RUNTIME_NAME === 'crun';

/** Debian's docker CLI: another `docker` may come first in PATH. */
export const DOCKER_CLI = '/usr/bin/docker';
/** The containerd namespace of ctr's containers (Docker's are in "moby"). */
export const CTR_NS = 'chroci';
export const IMAGE = 'localhost/chroci-busybox:engines';

export interface EngineDirs {
  base: string;
  containerdSock: string;
  containerdConfig: string;
  dockerSock: string;
  dockerPidfile: string;
  dockerConfig: string;
  /** DOCKER_CONFIG for the CLI: not root's ~/.docker. */
  cliConfig: string;
  /** --runc-root for ctr's containers. */
  runcRoot: string;
  /** Scratch space for bind-mount sources and the like. */
  scratch: string;
}

/**
 * Short paths: unix socket names must stay under 108 bytes. /run is a tmpfs
 * that every process here sees.
 */
export function engineDirs(base = process.env.ENGINES_DIR ?? ''): EngineDirs {
  if (!base) throw new Error('ENGINES_DIR is not set: run through test/engines/vitest.config.ts');
  return {
    base,
    containerdSock: path.join(base, 'ctd.sock'),
    containerdConfig: path.join(base, 'containerd.toml'),
    dockerSock: path.join(base, 'docker.sock'),
    dockerPidfile: path.join(base, 'docker.pid'),
    dockerConfig: path.join(base, 'daemon.json'),
    cliConfig: path.join(base, 'cli'),
    runcRoot: path.join(base, 'runc-root'),
    scratch: path.join(base, 'scratch'),
  };
}
