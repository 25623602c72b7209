// cgroups under load: 50 containers with limits created, started, paused,
// killed and deleted in parallel (half in a cgroupsPath of their own, half in
// the default one) leave zero cgroups behind, and no process.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/runtime';
import { LONG, figure, hardenDir, pool, rootLeftovers, runCase, summarize, type Step } from '../helpers/fuzz';
import { defaultLeftovers, leftUnder, removeParent } from '../helpers/cgroups';

const N = LONG ? 200 : 50;
const PARENT = `chroci-harden-${process.pid}`;
let work = '';
let base = '';

beforeAll(() => {
  work = hardenDir('cgroups');
  base = makeBundle('root', (c) => {
    c.process.args = ['sh', '-c', 'sleep 30 & sleep 31 & exec sleep 32'];
    c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 32 }, cpu: { shares: 512, quota: 50000, period: 100000 } };
  });
}, 120_000);

afterAll(() => {
  removeParent(PARENT);
  if (work) execFileSync('rm', ['-rf', work, base]);
});

/** A bundle of its own (config only; the rootfs is shared). */
function bundleFor(i: number): string {
  const dir = path.join(work, `b${i}`);
  fs.mkdirSync(dir);
  const c = JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8'));
  c.root.path = path.join(base, 'rootfs');
  if (i % 2 === 0) c.linux.cgroupsPath = `${PARENT}/c${i}`;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

describe('cgroups under concurrency (root)', () => {
  it(`${N} containers with limits, in parallel: created, started, paused, killed, deleted; zero cgroups left`, async () => {
    const root = path.join(work, 'state');
    const t0 = Date.now();
    const outcomes = await pool(
      Array.from({ length: N }, (_, i) => i),
      50,
      async (i) => {
        const id = `cg${i}`;
        const b = bundleFor(i);
        const steps: Step[] = [
          { args: ['--root', root, 'create', '--bundle', b, id] },
          { args: ['--root', root, 'start', id] },
          { args: ['--root', root, 'pause', id] },
          { args: ['--root', root, 'state', id] },
          { args: ['--root', root, 'resume', id] },
          // Half are killed first (kill --all through the cgroup), half go with delete --force.
          i % 4 < 2 ? { args: ['--root', root, 'kill', '--all', id, 'KILL'] } : { args: ['--root', root, 'state', id] },
          { args: ['--root', root, 'delete', '--force', id] },
        ];
        const r = await runCase(steps, { timeoutMs: 90_000, graceMs: 500 });
        const problems: string[] = [];
        r.steps.forEach((s, k) => {
          if (s.code !== 0) problems.push(`step ${k} (${steps[k].args[2]}): ${s.status} ${s.stderr.trim()}`);
        });
        if (r.steps[3].code === 0 && JSON.parse(r.steps[3].stdout).status !== 'paused')
          problems.push(`state while paused: ${JSON.parse(r.steps[3].stdout).status}`);
        if (r.leftover.length) problems.push(`processes left: ${r.leftover.join(' | ')}`);
        return { what: id, problems };
      },
    );
    const secs = (Date.now() - t0) / 1000;
    const failures = outcomes.filter((o) => o.problems.length);
    const left = [...leftUnder(PARENT), ...defaultLeftovers(root)];
    figure(
      `cgroups (${N} parallel lifecycles with limits as root)`,
      N,
      N - failures.length,
      `cgroups left ${left.length}, ${secs.toFixed(1)} s`,
    );
    expect(failures.length, summarize(failures)).toBe(0);
    expect(left).toEqual([]);
    expect(rootLeftovers(root)).toEqual([]);
  }, 900_000);
});
