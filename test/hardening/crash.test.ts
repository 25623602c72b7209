// Crashes and recovery: `create` SIGKILLed at random points (before and after
// the state dir, before and after the runner reports, before the pid file),
// then `state`, `list` and `delete --force` must make sense of what is left,
// and no container process (nor its cgroup) may outlive it unrecorded. Also: a container that
// died unobserved, a reused pid, and readers racing writers of state.json.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleTs } from '../helpers/repo';
import { EXE, REPO, chroci, isAlive, makeBundle, sleep, type As } from '../helpers/runtime';
import { LONG, PARALLEL, figure, hardenDir, ownedDir, pool, rootLeftovers, runCase, stepProblems, summarize } from '../helpers/fuzz';
import { defaultLeftovers } from '../helpers/cgroups';
import { StateStore } from '../../src/state/store';
import type { ContainerRecord } from '../../src/state/record';

const ITERATIONS = Number(process.env.CHROCI_HARDEN_CRASHES ?? (LONG ? 200 : 30));

let work: string;
const bundles: Record<As, string> = { root: '', user: '' };

beforeAll(() => {
  work = hardenDir('crash');
  for (const as of ['root', 'user'] as As[]) {
    bundles[as] = makeBundle(as, (c) => {
      c.process.args = ['true'];
    });
    fs.chmodSync(bundles[as], 0o755);
  }
}, 120_000);

afterAll(() => {
  if (work) execFileSync('rm', ['-rf', work, ...Object.values(bundles).filter(Boolean)]);
});

/**
 * When to kill: from about when node has started (a `state` of a missing id
 * takes that long) to a little after a create usually ends, so the kills
 * spread over claim, state writes, the runner's report and the pid file.
 */
async function killWindow(as: As): Promise<[number, number]> {
  const boot: number[] = [];
  const create: number[] = [];
  for (let i = 0; i < 3; i++) {
    const root = path.join(ownedDir(work, `probe-${as}-${i}`, as), 'state');
    const b = await runCase([{ as, args: ['--root', root, 'state', 'probe'] }]);
    boot.push(b.ms);
    const c = await runCase([{ as, args: ['--root', root, 'create', '--bundle', bundles[as], 'probe'] }]);
    expect(c.steps[0].status).toBe('exit 0');
    create.push(c.ms);
    await runCase([{ as, args: ['--root', root, 'delete', '--force', 'probe'] }]);
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[1];
  return [median(boot) * 0.7, median(create) * 1.05];
}

const STATUSES = new Set(['creating', 'created', 'stopped']);

describe('SIGKILL during create', () => {
  it(`${ITERATIONS} creates killed at random points leave a sensible state and nothing running`, async () => {
    const span: Record<As, [number, number]> = { root: await killWindow('root'), user: await killWindow('user') };
    const phases: Record<string, number> = {};
    const t0 = Date.now();
    const outcomes = await pool(
      Array.from({ length: ITERATIONS }, (_, i) => i),
      PARALLEL,
      async (i) => {
        const as: As = i % 2 ? 'user' : 'root';
        const dir = ownedDir(work, `kill${i}`, as);
        const root = path.join(dir, 'state');
        const pidFile = path.join(dir, 'pid');
        const [from, to] = span[as];
        const killMs = from + Math.random() * (to - from);
        const r = await runCase(
          [
            { as, killMs, args: ['--root', root, 'create', '--bundle', bundles[as], '--pid-file', pidFile, 'c'] },
            { as, args: ['--root', root, 'state', 'c'] },
            { as, args: ['--root', root, 'list', '--format', 'json'] },
            { as, args: ['--root', root, 'delete', '--force', 'c'] },
            { as, args: ['--root', root, 'list', '--format', 'json'] },
          ],
          { timeoutMs: 20_000, graceMs: 500 },
        );
        const problems: string[] = [];
        const [create, state, list, del, after] = r.steps;
        problems.push(...stepProblems(create).map((p) => `create: ${p}`));
        // state: the container as far as create got, or "does not exist" if it never claimed the id.
        let phase: string;
        if (state.code === 1 && /does not exist/.test(state.stderr)) phase = 'no container';
        else if (state.code === 0) {
          const s = JSON.parse(state.stdout);
          if (!STATUSES.has(s.status)) problems.push(`state status ${s.status}`);
          if (s.status === 'created' && !(s.pid > 0)) problems.push('created without a pid');
          phase = s.status === 'stopped' ? (fs.existsSync(pidFile) ? 'stopped, pid file written' : 'stopped') : s.status;
          if (create.status.startsWith('exit 0')) phase = 'create finished';
        } else {
          phase = 'state failed';
          problems.push(`state: ${state.status} ${state.stderr.trim()}`);
        }
        phases[phase] = (phases[phase] ?? 0) + 1;
        for (const [name, l] of [
          ['list', list],
          ['list after delete', after],
        ] as const) {
          if (l.code !== 0) {
            problems.push(`${name}: ${l.status} ${l.stderr.trim()}`);
            continue;
          }
          const rows = JSON.parse(l.stdout) as { id: string; status: string }[];
          for (const row of rows)
            if (row.id !== 'c' || !STATUSES.has(row.status)) problems.push(`${name}: corrupt entry ${JSON.stringify(row)}`);
          if (name === 'list after delete' && rows.length) problems.push(`still listed after delete: ${l.stdout.trim()}`);
        }
        if (del.code !== 0) problems.push(`delete --force: ${del.status} ${del.stderr.trim()}`);
        const left = rootLeftovers(root);
        if (left.length) problems.push(`state root not empty: ${left.join(' ')}`);
        // The container's cgroup (root: the default one, under ours) goes with delete --force too.
        const cgroups = defaultLeftovers(root);
        if (cgroups.length) problems.push(`cgroups left: ${cgroups.join(' ')}`);
        if (r.leftover.length) problems.push(`processes left: ${r.leftover.join(' | ')}`);
        return { what: `#${i} ${as} kill after ${killMs.toFixed(0)} ms (${create.status}, ${phase})`, problems };
      },
    );
    const failures = outcomes.filter((o) => o.problems.length);
    const where = Object.entries(phases)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    figure(
      'crash (SIGKILL during create)',
      ITERATIONS,
      ITERATIONS - failures.length,
      `${where}; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    expect(failures.length, summarize(failures) + '\n').toBe(0);
  }, 1_800_000);

  it('a create killed after the runner reported the pid but before it was recorded leaves no process', async () => {
    // Drives launchRunner directly: onPid writes the pid, then never confirms.
    const js = path.join(work, 'kill-at-pid.js');
    bundleTs(path.join(__dirname, 'kill-at-pid.ts'), js);
    const stateDir = path.join(work, 'kill-at-pid-state');
    fs.mkdirSync(stateDir, { mode: 0o700 });
    const pidFile = path.join(work, 'kill-at-pid.pid');
    const configFile = path.join(bundles.root, 'config.json');
    for (let i = 0; i < 5; i++) {
      fs.rmSync(pidFile, { force: true });
      const child = spawn(process.execPath, [js, configFile, bundles.root, stateDir, pidFile], {
        stdio: 'ignore',
        env: { CH_RUN_OCI_RUNNER: path.join(REPO, 'dist', 'runner', 'ch-run-oci-runner') },
      });
      const deadline = Date.now() + 10_000;
      while (!fs.existsSync(pidFile) && Date.now() < deadline) await sleep(5);
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(isAlive(pid)).toBe(true);
      child.kill('SIGKILL');
      const gone = Date.now() + 3_000;
      while (isAlive(pid) && Date.now() < gone) await sleep(5);
      expect(isAlive(pid), `container ${pid} survived the killed caller`).toBe(false);
      fs.rmSync(path.join(stateDir, 'exec.fifo'), { force: true });
    }
  }, 60_000);
});

describe('recovery', () => {
  it('a container whose process died while nobody watched shows stopped, and delete cleans up', () => {
    for (const as of ['root', 'user'] as As[]) {
      const root = path.join(ownedDir(work, `died-${as}`, as), 'state');
      const b = makeBundle(as, (c) => {
        c.process.args = ['sleep', '30'];
      });
      expect(chroci(['--root', root, 'create', '--bundle', b, 'd'], { as }).status).toBe(0);
      expect(chroci(['--root', root, 'start', 'd'], { as }).status).toBe(0);
      const pid = JSON.parse(chroci(['--root', root, 'state', 'd'], { as }).stdout).pid;
      process.kill(pid, 'SIGKILL');
      waitGone(pid);
      const s = JSON.parse(chroci(['--root', root, 'state', 'd'], { as }).stdout);
      expect(s.status).toBe('stopped');
      expect(chroci(['--root', root, 'delete', 'd'], { as }).status).toBe(0);
      expect(rootLeftovers(root)).toEqual([]);
      fs.rmSync(b, { recursive: true, force: true });
    }
  });

  it('a reused pid (same pid, other start time) is not the container: stopped, and delete leaves it alone', () => {
    const root = path.join(ownedDir(work, 'reuse', 'root'), 'state');
    expect(chroci(['--root', root, 'create', '--bundle', bundles.root, 'r']).status).toBe(0);
    const store = new StateStore(root);
    const real = store.read('r');
    // An unrelated process now "has" the container's pid: simulated by pointing
    // the record at a live bystander with the container's (stale) start time.
    // Start times count clock ticks (10 ms): let a few pass so that the
    // bystander's start time really differs from the container's, as a reused
    // pid's always does (a pid is reused only after its first owner is gone).
    execFileSync('sleep', ['0.05']);
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    const stale: ContainerRecord = { ...real, pid: bystander.pid!, pidStartTime: real.pidStartTime };
    store.write('r', stale);
    try {
      const s = JSON.parse(chroci(['--root', root, 'state', 'r']).stdout);
      expect(s.status).toBe('stopped');
      expect(s.pid).toBe(0);
      expect(chroci(['--root', root, 'kill', 'r', 'KILL']).status).toBe(1);
      expect(chroci(['--root', root, 'delete', 'r']).status).toBe(0);
      expect(isAlive(bystander.pid!)).toBe(true);
    } finally {
      bystander.kill('SIGKILL');
      // The real container was orphaned by the edit: ours to remove.
      try {
        process.kill(real.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });

  it('readers racing writers never see a half-written state.json', async () => {
    const js = path.join(work, 'store-writer.js');
    bundleTs(path.join(__dirname, 'store-writer.ts'), js);
    const root = path.join(work, 'race');
    fs.mkdirSync(root, { mode: 0o700 });
    const store = new StateStore(root);
    store.claim('w');
    store.write('w', { ociVersion: '1.0.2', id: 'w', bundle: '/b', rootfs: '/b/rootfs', created: '', owner: 'root', annotations: {} });
    // Two writers replace the record with ones of very different sizes for 2 s.
    const writers = [0, 1].map(() => spawn(process.execPath, [js, root, 'w', '2000'], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const done = Promise.all(
      writers.map(
        (w) =>
          new Promise<string>((res) => {
            let out = '';
            w.stdout!.on('data', (d) => (out += d));
            w.on('exit', () => res(out));
          }),
      ),
    );
    let reads = 0;
    let bad = 0;
    const file = path.join(root, 'w', 'state.json');
    const until = Date.now() + 1800;
    while (Date.now() < until) {
      for (let k = 0; k < 50; k++) {
        try {
          const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
          if (rec.id !== 'w' || typeof rec.annotations !== 'object') bad++;
        } catch {
          bad++;
        }
        try {
          store.read('w');
        } catch {
          bad++;
        }
        reads += 2;
      }
      await sleep(0);
    }
    // And the real CLI, as buildah polls it.
    for (let k = 0; k < 5; k++) {
      const r = chroci(['--root', root, 'state', 'w']);
      if (r.status !== 0) bad++;
      reads++;
    }
    const writes = (await done).reduce((n, out) => n + Number(out.trim() || 0), 0);
    figure('state store race', reads, reads - bad, `${writes} concurrent writes`);
    expect(writes).toBeGreaterThan(100);
    expect(bad).toBe(0);
  }, 60_000);
});

function waitGone(pid: number): void {
  const until = Date.now() + 5000;
  while (isAlive(pid) && Date.now() < until) execFileSync('sleep', ['0.01']);
}

void EXE;
