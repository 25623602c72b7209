// Property-based bad input: configs mutated from real ones, each case run by
// the real dist/ch-run-oci (create → state → delete --force, or run with a
// `true` process), as root and as the unprivileged test user. Every case must
// end with exit 0 (and nothing left) or exit 1 with one stderr line naming
// the field — no stack trace, signal death, hang, state dir or process left.
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXE, SHARED, makeBundle, testUser, type As } from '../helpers/runtime';
import { LONG, PARALLEL, figure, hardenDir, pool, rootLeftovers, runCase, stepProblems, summarize, type Step } from '../helpers/fuzz';
import { adaptConfig, applyMutations, caseArb, writeBundle, type ConfigCase, type Json } from '../helpers/fuzz-config';
import { defaultLeftovers, leftUnder, removeParent } from '../helpers/cgroups';

const CASES = Number(process.env.CHROCI_HARDEN_CASES ?? (LONG ? 1000 : 150));
const SEED = Number(process.env.CHROCI_HARDEN_SEED ?? Date.now() % 1_000_000);
const CONFIGS = path.join(SHARED, 'configs');
/** Relative: under our own cgroup. */
const CGROUP_PARENT = `chroci-fuzz-${process.pid}`;

let work: string;
const rootfs: Record<As, string> = { root: '', user: '' };
const bases: { name: string; config: Json }[] = [];

beforeAll(() => {
  work = hardenDir('config');
  for (const as of ['root', 'user'] as As[]) {
    const b = makeBundle(as);
    fs.chmodSync(b, 0o755);
    rootfs[as] = path.join(b, 'rootfs');
  }
  // Our own `spec` output, plain and rootless.
  for (const flags of [[], ['--rootless']]) {
    const dir = fs.mkdtempSync(path.join(work, 'spec-'));
    execFileSync(EXE, ['spec', '--bundle', dir, ...flags]);
    bases.push({
      name: `spec ${flags.join(' ')}`.trim(),
      config: adaptConfig(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), ''),
    });
  }
  // The real client configs (exec's process.json is not a config).
  const files = path.join(work, 'client-files');
  fs.mkdirSync(files, { mode: 0o755 });
  fs.writeFileSync(path.join(files, 'file'), 'stand-in\n', { mode: 0o644 });
  if (fs.existsSync(CONFIGS)) {
    for (const f of fs
      .readdirSync(CONFIGS)
      .filter((f) => f.endsWith('.json') && !f.includes('exec-process'))
      .sort()) {
      bases.push({ name: f, config: adaptConfig(JSON.parse(fs.readFileSync(path.join(CONFIGS, f), 'utf8')), files) });
    }
  }
}, 120_000);

afterAll(() => {
  removeParent(CGROUP_PARENT);
  if (work)
    execFileSync('rm', [
      '-rf',
      work,
      ...Object.values(rootfs)
        .filter(Boolean)
        .map((r) => path.dirname(r)),
    ]);
});

/** Words a message must contain (one of) to "name the field". */
function fieldWords(touched: (string | number)[][], c: ConfigCase): string[] {
  const words = touched.flat().filter((k): k is string => typeof k === 'string' && k !== '');
  if (c.file !== 'none') words.push('config.json', 'bundle', 'root.path', 'rootfs');
  return words;
}

interface Outcome {
  what: string;
  problems: string[];
  created: boolean;
  namedExactly: boolean;
}

const NAMES_A_FIELD =
  /^ch-run-oci: (?:[^:]*\b(?:ociVersion|process|root|mounts?|hostname|domainname|linux|hooks|annotations|config\.json|bundle|rootfs|exec|namespace)\b)/;

async function runOne(c: ConfigCase, i: number): Promise<Outcome> {
  const base = bases[c.base];
  const config = JSON.parse(JSON.stringify(base.config));
  if (c.file === 'rootfs-absolute') config.root.path = rootfs[c.as];
  // A cgroupsPath of the case's own (podman's configs name /libpod_parent/…):
  // cases run side by side and must not share a cgroup.
  if (typeof config.linux?.cgroupsPath === 'string') config.linux.cgroupsPath = `${CGROUP_PARENT}/case${i}`;
  const { text, touched, what } = applyMutations(config, c.mutations);
  const caseDir = path.join(work, `case${i}`);
  fs.mkdirSync(caseDir, { mode: 0o755 });
  const bundleArg = writeBundle(path.join(caseDir, 'bundle'), text, rootfs[c.as], c.file, c.at);
  const root = path.join(caseDir, 'state');
  if (c.as === 'user') {
    const u = testUser();
    execFileSync('chown', ['-R', '-h', `${u.uid}:${u.gid}`, caseDir]);
  }
  const id = `fuzz${i}`;
  const as = c.as;
  const first: Step =
    c.verb === 'run'
      ? { as, args: ['--root', root, 'run', '--bundle', bundleArg, id] }
      : { as, args: ['--root', root, 'create', '--bundle', bundleArg, id] };
  const steps: Step[] = [
    first,
    { as, ifOk: true, args: ['--root', root, 'state', id] },
    { as, args: ['--root', root, 'delete', '--force', id] },
  ];
  const r = await runCase(steps, { cwd: caseDir, timeoutMs: 30_000 });
  const label = `#${i} ${as} ${c.verb} [${base.name}] file=${c.file} ${what.join('; ') || 'unchanged'}`;
  const problems: string[] = [];
  r.steps.forEach((s, k) => problems.push(...stepProblems(s).map((p) => `${['create', 'state', 'delete'][k]}: ${p}`)));
  const created = r.steps[0].code === 0;
  let namedExactly = false;
  if (r.steps[0].code === 1) {
    const words = fieldWords(touched, c);
    const line = r.steps[0].stderr.trim();
    // It names the mutated field, or (when the mutation broke something
    // further on) another field or the set-up step that failed.
    if (words.some((w) => line.includes(w))) namedExactly = true;
    else if (!NAMES_A_FIELD.test(line)) problems.push(`error does not name a field: ${line.slice(0, 200)}`);
  }
  if (created && c.verb === 'create' && !/"status": "created"/.test(r.steps[1].stdout))
    problems.push(`state after create: ${r.steps[1].stdout.slice(0, 200)}`);
  const left = rootLeftovers(root);
  if (left.length) problems.push(`state root not empty: ${left.join(' ')}`);
  const cgroups = [...defaultLeftovers(root), ...leftUnder(CGROUP_PARENT).filter((d) => d.endsWith(`/case${i}`))];
  if (cgroups.length) problems.push(`cgroups left: ${cgroups.join(' ')}`);
  if (r.leftover.length) problems.push(`processes left: ${r.leftover.join(' | ')}`);
  execFileSync('rm', ['-rf', caseDir]);
  return { what: label, problems, created, namedExactly };
}

describe('bad configs (property-based)', () => {
  it(`${CASES} mutated configs end in exit 0 or one clean line, leaving nothing`, async () => {
    const cases = fc.sample(caseArb(bases.length), { numRuns: CASES, seed: SEED });
    const t0 = Date.now();
    const outcomes = await pool(cases, PARALLEL, runOne);
    const failures = outcomes.filter((o) => o.problems.length);
    const created = outcomes.filter((o) => o.created).length;
    const exact = outcomes.filter((o) => o.namedExactly).length;
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    figure(
      'config fuzz',
      CASES,
      CASES - failures.length,
      `${created} created and deleted, ${exact} of ${CASES - created} errors name the mutated field itself, seed ${SEED}, ${secs} s`,
    );
    expect(failures.length, `seed ${SEED}:\n${summarize(failures)}`).toBe(0);
    // The generator must reach both outcomes, or it tests nothing.
    expect(created).toBeGreaterThan(CASES / 20);
  }, 1_800_000);

  it('every base config is valid as root (the mutations start from working configs)', async () => {
    const results = await pool(bases, PARALLEL, async (b, i) => {
      const caseDir = path.join(work, `base${i}`);
      fs.mkdirSync(caseDir, { mode: 0o755 });
      writeBundle(path.join(caseDir, 'bundle'), Buffer.from(JSON.stringify(b.config)), rootfs.root, 'none', 0);
      const root = path.join(caseDir, 'state');
      const r = await runCase([{ args: ['--root', root, 'run', '--bundle', path.join(caseDir, 'bundle'), 'base'] }]);
      return `${b.name}: ${r.steps[0].status} ${r.steps[0].stderr.trim()}`;
    });
    expect(results.filter((r) => !/: exit 0 $/.test(r))).toEqual([]);
  }, 300_000);
});
