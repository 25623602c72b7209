// One bundle, two runtimes: ch-run-oci (the built executable) and crun as the
// control, run with the same config as root or as the unprivileged test user.
// The bundle carries the static syscall probe (test/helpers/syscall-probe.c)
// at /bin/probe and explicit id maps, so crun can run it rootless too.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileC } from './repo';
import { asArgv, chownTree, defaultEnv, EXE, makeBundle, REPO, scratch, SHARED, testUser, type As } from './runtime';

export const CRUN = '/usr/bin/crun';
export type Runtime = 'ch-run-oci' | 'crun';
export const RUNTIMES: Runtime[] = ['ch-run-oci', 'crun'];

/** Compiles the probe once into DIR; returns its path. */
export function buildProbe(dir: string): string {
  const out = path.join(dir, 'probe');
  return compileC(out, [path.join(REPO, 'test/helpers/syscall-probe.c')], { static: true });
}

/** A writable busybox bundle with the probe, running `sh -c SCRIPT`; EDIT changes the config last. */
export function probeBundle(as: As, probe: string, script: string, edit: (c: any) => void = () => {}): string {
  const bundle = makeBundle('root', (c) => {
    // crun 1.8 knows runtime-spec versions up to 1.0.2.
    c.ociVersion = '1.0.2';
    c.process.args = ['sh', '-c', script];
    c.root.readonly = false;
    const hostId = as === 'user' ? testUser().uid : 0;
    const hostGid = as === 'user' ? testUser().gid : 0;
    const size = as === 'user' ? 1 : 65536;
    c.linux.uidMappings = [{ containerID: 0, hostID: hostId, size }];
    c.linux.gidMappings = [{ containerID: 0, hostID: hostGid, size }];
    edit(c);
  });
  fs.copyFileSync(probe, path.join(bundle, 'rootfs/bin/probe'));
  fs.chmodSync(path.join(bundle, 'rootfs/bin/probe'), 0o755);
  fs.chmodSync(bundle, 0o755);
  chownTree(bundle, as);
  return bundle;
}

let seq = 0;

/** `RUNTIME run` of BUNDLE with a private state root; the bundle is removed afterwards unless keep. */
export function runBundle(runtime: Runtime, as: As, bundle: string, o: { debug?: boolean; keep?: boolean } = {}): SpawnSyncReturns<string> {
  const root = scratch(as, 'chroci-ctl-root-');
  const id = `ctl-${process.pid}-${++seq}`;
  const exe = runtime === 'crun' ? CRUN : EXE;
  const argv = [exe, ...(o.debug ? ['--debug'] : []), '--root', root, 'run', '--bundle', bundle, id];
  try {
    return spawnArgv(asArgv(as, argv, defaultEnv(as)));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    if (!o.keep) fs.rmSync(bundle, { recursive: true, force: true });
  }
}

/** Like runtime.ts's spawnCaptured: output to files, since a container may hold pipes open. */
export function spawnArgv(argv: string[], timeout = 60_000): SpawnSyncReturns<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-ctl-out-'));
  const out = fs.openSync(path.join(dir, 'stdout'), 'w+');
  const err = fs.openSync(path.join(dir, 'stderr'), 'w+');
  try {
    const r = spawnSync(argv[0], argv.slice(1), { cwd: os.tmpdir(), stdio: ['ignore', out, err], timeout, encoding: 'utf8' });
    return { ...r, stdout: fs.readFileSync(path.join(dir, 'stdout'), 'utf8'), stderr: fs.readFileSync(path.join(dir, 'stderr'), 'utf8') };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** linux.seccomp of one of the real client configs (shared/configs). */
export function clientProfile(file: string): any {
  return JSON.parse(fs.readFileSync(path.join(SHARED, 'configs', file), 'utf8')).linux.seccomp;
}
