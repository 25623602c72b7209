// Global set-up of the engine suite: a private containerd and a private
// dockerd (using that containerd), in a mount namespace of their own so that
// every mount they and their shims make goes away with them, and a busybox
// image imported offline into both. The teardown stops everything by pid,
// also when the set-up itself failed half-way.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from '../helpers/repo';
import { isAlive, sleep } from '../helpers/procs';
import { CTR_NS, DOCKER_CLI, IMAGE, IS_OURS, RUNTIME, RUNTIME_NAME, engineDirs, type EngineDirs } from './env';

const started: { name: string; child: ChildProcess }[] = [];
let dirs: EngineDirs | undefined;

export default async function setup(): Promise<() => Promise<void>> {
  if (process.geteuid?.() !== 0) throw new Error('the engine suite runs as root (it starts containerd and dockerd)');
  const fix = 'run scripts/setup-clients (as root) first';
  for (const tool of ['containerd', 'containerd-shim-runc-v2', 'ctr', 'dockerd', DOCKER_CLI, 'runc', 'crun', 'unshare']) {
    if (spawnSync('sh', ['-c', `command -v "$0"`, tool]).status !== 0) throw new Error(`${tool} is not installed: ${fix}`);
  }
  if (!fs.existsSync(RUNTIME)) throw new Error(`RUNTIME ${RUNTIME} does not exist (build it, or set RUNTIME=runc|crun)`);
  const base = fs.mkdtempSync('/run/chroci-eng-');
  process.env.ENGINES_DIR = base;
  dirs = engineDirs(base);
  try {
    await startDaemons(dirs);
    importImage(dirs);
  } catch (err) {
    await teardown();
    throw err;
  }
  process.stderr.write(`engine suite: RUNTIME=${RUNTIME}${IS_OURS ? '' : ' (control run)'}, daemons under ${base}\n`);
  return teardown;
}

function containerdConfig(d: EngineDirs): string {
  // No CRI plugin (no pods here), nothing shared with a system containerd.
  return [
    'version = 2',
    `root = "${d.base}/containerd/root"`,
    `state = "${d.base}/containerd/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${d.containerdSock}"`,
    '[ttrpc]',
    `  address = "${d.containerdSock}.ttrpc"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${d.base}/containerd/opt"`,
    '',
  ].join('\n');
}

async function startDaemons(d: EngineDirs): Promise<void> {
  for (const sub of ['containerd', 'docker', 'docker-exec', d.cliConfig, d.runcRoot, d.scratch])
    fs.mkdirSync(path.resolve(d.base, sub), { recursive: true });
  fs.chmodSync(d.scratch, 0o755);
  fs.writeFileSync(d.containerdConfig, containerdConfig(d));
  // Docker reads /etc/docker/daemon.json unless told otherwise: an empty one of ours.
  fs.writeFileSync(d.dockerConfig, '{}\n');
  const log = (name: string) => fs.openSync(path.join(d.base, `${name}.log`), 'a');

  // unshare execs containerd: the pid is containerd's. dockerd joins that
  // mount namespace (nsenter execs it too).
  const ctd = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'containerd',
      '--config',
      d.containerdConfig,
      '--root',
      `${d.base}/containerd/root`,
      '--state',
      `${d.base}/containerd/state`,
      '--address',
      d.containerdSock,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', log('containerd'), log('containerd')], detached: true },
  );
  started.push({ name: 'containerd', child: ctd });
  await waitUntil(
    'containerd',
    () => spawnSync('ctr', ['--address', d.containerdSock, 'version'], { timeout: 5000 }).status === 0,
    ctd,
    30_000,
  );

  const runtimes = ['--add-runtime', `crun=/usr/bin/crun`];
  if (RUNTIME_NAME !== 'runc' && RUNTIME_NAME !== 'crun') runtimes.push('--add-runtime', `${RUNTIME_NAME}=${RUNTIME}`);
  const dockerd = spawn(
    'nsenter',
    [
      '--target',
      String(ctd.pid),
      '--mount',
      '--',
      'dockerd',
      '--config-file',
      d.dockerConfig,
      '--data-root',
      `${d.base}/docker`,
      '--exec-root',
      `${d.base}/docker-exec`,
      '-H',
      `unix://${d.dockerSock}`,
      '--pidfile',
      d.dockerPidfile,
      '--containerd',
      d.containerdSock,
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--userland-proxy=false',
      '--log-level',
      'warn',
      ...runtimes,
    ],
    { stdio: ['ignore', log('dockerd'), log('dockerd')], detached: true, env: { ...process.env, DOCKER_CONFIG: d.cliConfig } },
  );
  started.push({ name: 'dockerd', child: dockerd });
  await waitUntil(
    'dockerd',
    () =>
      spawnSync(DOCKER_CLI, ['-H', `unix://${d.dockerSock}`, 'version'], {
        timeout: 5000,
        env: { ...process.env, DOCKER_CONFIG: d.cliConfig },
      }).status === 0,
    dockerd,
    60_000,
  );
}

function importImage(d: EngineDirs): void {
  const tar = run('bash', [path.join(REPO, 'scripts', 'images'), '--busybox-tar']).trim();
  const docker = (args: string[], input?: string) =>
    run(DOCKER_CLI, ['-H', `unix://${d.dockerSock}`, ...args], input, { DOCKER_CONFIG: d.cliConfig });
  docker([
    'import',
    '--change',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--change',
    'CMD ["/bin/sh"]',
    tar,
    IMAGE,
  ]);
  const saved = path.join(d.base, 'image.tar');
  docker(['save', '-o', saved, IMAGE]);
  run('ctr', ['--address', d.containerdSock, '-n', CTR_NS, 'image', 'import', saved]);
  fs.rmSync(saved);
}

function run(cmd: string, args: string[], input?: string, env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 120_000, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: status ${r.status}\n${r.stderr}`);
  return r.stdout;
}

async function waitUntil(what: string, ok: () => boolean, child: ChildProcess, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}); see ${dirs?.base}/${what}.log:\n${tail(what)}`);
    if (Date.now() > end) throw new Error(`${what} did not answer within ${ms} ms; see ${dirs?.base}/${what}.log:\n${tail(what)}`);
    await sleep(200);
  }
}

function tail(name: string): string {
  try {
    return fs.readFileSync(path.join(dirs!.base, `${name}.log`), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

async function stop(pid: number, ms: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const end = Date.now() + ms;
  while (isAlive(pid) && Date.now() < end) await sleep(100);
  try {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Shims of our containerd: their command line names our socket. */
function ourShims(d: EngineDirs): number[] {
  const pids: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0]).startsWith('containerd-shim') && argv.includes(d.containerdSock)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

async function teardown(): Promise<void> {
  const d = dirs;
  if (!d) return;
  const docker = (args: string[]) =>
    spawnSync(DOCKER_CLI, ['-H', `unix://${d.dockerSock}`, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, DOCKER_CONFIG: d.cliConfig },
    });
  const ctr = (args: string[]) =>
    spawnSync('ctr', ['--address', d.containerdSock, '-n', CTR_NS, ...args], { encoding: 'utf8', timeout: 60_000 });
  // Containers first, while the daemons can still clean up after them.
  const ids = (docker(['ps', '-aq']).stdout ?? '').split('\n').filter(Boolean);
  if (ids.length) docker(['rm', '-f', ...ids]);
  for (const id of (ctr(['containers', 'ls', '-q']).stdout ?? '').split('\n').filter(Boolean)) {
    ctr(['task', 'kill', '-s', 'KILL', id]);
    ctr(['task', 'delete', '-f', id]);
    ctr(['containers', 'delete', id]);
  }
  for (const s of started.reverse()) if (s.child.pid) await stop(s.child.pid, 15_000);
  for (const pid of ourShims(d)) await stop(pid, 5_000);
  started.length = 0;
  // The daemons' mounts died with their mount namespace.
  if (!process.env.CHROCI_KEEP_SCRATCH) fs.rmSync(d.base, { recursive: true, force: true });
  dirs = undefined;
}
