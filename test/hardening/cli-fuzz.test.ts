// Command-line fuzzing of every verb: random argument lists built from
// unknown flags, flags without values, bad ids (`/`, `..`, spaces, 1,025
// characters, NUL-free control characters), bad signals and odd paths, run by
// the real dist/ch-run-oci (sometimes against a live container). Each must end
// with exit 0, or exit 1 and one stderr line — no stack trace, signal death,
// hang, leftover state or process. (`run`/`exec` may also pass on the status
// of the container's process.)
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chownTree, type As } from '../helpers/runtime';
import { LONG, PARALLEL, figure, pool, rootLeftovers, runCase, stepProblems, summarize, type Step } from '../helpers/fuzz';
import { sleepingBundles } from '../helpers/fuzz-suite';

const CASES = Number(process.env.CHROCI_HARDEN_CLI_CASES ?? (LONG ? 1000 : 150));
const SEED = Number(process.env.CHROCI_HARDEN_SEED ?? Date.now() % 1_000_000);

const VERBS = [
  'create',
  'start',
  'state',
  'kill',
  'delete',
  'list',
  'ps',
  'run',
  'exec',
  'spec',
  'features',
  'pause',
  'resume',
  'checkpoint',
  'restore',
  'update',
  'events',
  'help',
  'bogus',
  '',
];

const IDS = [
  'live',
  'nope',
  'a/b',
  '..',
  '.',
  'a b',
  'a'.repeat(1025),
  'a'.repeat(1024),
  'a'.repeat(256),
  'b'.repeat(255),
  '-x',
  '',
  '\t',
  'ü',
  'a\nb',
  '$(id)',
  '../x',
  '/abs',
  'x*',
  'A.b_c+d-1',
  ' live',
  'live ',
  '\u001b[31m',
  'ÿ',
];
const SIGNALS = [
  'KILL',
  'SIGKILL',
  '9',
  '0',
  '-1',
  '65',
  '64',
  'SIGFOO',
  '',
  '99999999999999999999',
  'sigterm',
  'TERM ',
  'RTMIN+3',
  'SIGRTMAX-1',
  '1.5',
  '0x9',
  'SIGRTMIN+99',
  '-9',
  'HUP',
  '15',
];
const FLAGS = [
  '--bogus',
  '-z',
  '--force',
  '-f',
  '--all',
  '-a',
  '--format',
  '--format=xml',
  '--format=json',
  '-q',
  '--quiet',
  '--bundle',
  '-b',
  '--pid-file',
  '--console-socket',
  '--preserve-fds',
  '--preserve-fds=-1',
  '--preserve-fds=99999',
  '--preserve-fds=1e3',
  '--detach',
  '-d',
  '--keep',
  '--no-pivot',
  '--no-new-keyring',
  '--rootless',
  '--rootless=maybe',
  '--log',
  '--log-format',
  '--log-format=xml',
  '--debug',
  '--systemd-cgroup',
  '--cgroup-manager',
  '--cgroup-manager=disabled',
  '--help',
  '-h',
  '--version',
  '-v',
  '--process',
  '-p',
  '--cwd',
  '--env',
  '-e',
  '--user',
  '-u',
  '-u=99999999999',
  '--cap',
  '--cap=CAP_BOGUS',
  '--tty',
  '-t',
  '--',
  '---',
  '-',
  '--=',
  '--no-force',
  '--force=maybe',
  '--memory',
  '--memory=64m',
  '--memory=-5',
  '--memory=1e99',
  '--pids-limit=x',
  '--pids-limit=3',
  '--cpu-quota=-1',
  '--cpu-share=99999999999999999999',
  '--resources',
  '-r',
  '--resources=-',
  '--stats',
  '--interval=0s',
  '--interval=1x',
  '--l3-cache-schema=L3:0=f',
];

type Token = { kind: 'id' | 'signal' | 'flag' | 'path' | 'word'; value: string };

const tokenArb: fc.Arbitrary<Token> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...IDS).map((value) => ({ kind: 'id' as const, value })) },
  { weight: 2, arbitrary: fc.constantFrom(...SIGNALS).map((value) => ({ kind: 'signal' as const, value })) },
  { weight: 4, arbitrary: fc.constantFrom(...FLAGS).map((value) => ({ kind: 'flag' as const, value })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('BUNDLE', 'BUNDLE/config.json', 'MISSING', 'OUT/pid', 'OUT/log', 'OUT', '.', '/', 'FIFO', 'OUT/x/y/z')
      .map((value) => ({ kind: 'path' as const, value })),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 12 })
      .filter((s) => !s.includes('\0'))
      .map((value) => ({ kind: 'word' as const, value })),
  },
);

interface CliCase {
  as: As;
  verb: string;
  tokens: Token[];
  live: boolean;
  globalsFirst: Token[];
}

const caseArb: fc.Arbitrary<CliCase> = fc.record({
  as: fc.constantFrom<As>('root', 'user'),
  verb: fc.constantFrom(...VERBS),
  tokens: fc.array(tokenArb, { maxLength: 5 }),
  live: fc.boolean(),
  globalsFirst: fc.array(
    fc
      .constantFrom(...FLAGS.filter((f) => f.startsWith('--log') || f === '--debug' || f === '--bogus'))
      .map((value) => ({ kind: 'flag' as const, value })),
    { maxLength: 1 },
  ),
});

const suite = sleepingBundles('cli');

function expand(t: Token, caseDir: string, bundle: string): string {
  return t.value
    .replace(/^BUNDLE/, bundle)
    .replace(/^MISSING/, path.join(caseDir, 'missing'))
    .replace(/^OUT/, path.join(caseDir, 'out'))
    .replace(/^FIFO$/, path.join(caseDir, 'fifo'));
}

async function runOne(c: CliCase, i: number): Promise<{ what: string; problems: string[] }> {
  const caseDir = path.join(suite.work, `case${i}`);
  fs.mkdirSync(path.join(caseDir, 'out'), { recursive: true, mode: 0o755 });
  execFileSync('mkfifo', [path.join(caseDir, 'fifo')]);
  // The case's own bundle (config copied, rootfs shared): fuzzed words like
  // `--log BUNDLE/config.json` may write into it, never into the shared one.
  const bundle = path.join(caseDir, 'bundle');
  fs.mkdirSync(bundle);
  fs.copyFileSync(path.join(suite.bundles[c.as], 'config.json'), path.join(bundle, 'config.json'));
  fs.symlinkSync(path.join(suite.bundles[c.as], 'rootfs'), path.join(bundle, 'rootfs'));
  const root = path.join(caseDir, 'state');
  chownTree(caseDir, c.as);
  const as = c.as;
  // The fuzzed words never choose the state root: it stays this case's own.
  const words = [...c.globalsFirst, ...(c.verb ? [{ kind: 'word' as const, value: c.verb }] : []), ...c.tokens]
    .map((t) => expand(t, caseDir, bundle))
    .map((w) => (w === '--root' || w.startsWith('--root=') ? '--bogus' : w));
  const fuzzed: Step = { as, args: ['--root', root, ...words] };
  const steps: Step[] = [];
  if (c.live) steps.push({ as, args: ['--root', root, 'create', '--bundle', bundle, 'live'] });
  steps.push(fuzzed);
  // Clean up whatever the command made: every id it may have created.
  steps.push({ as, args: ['--root', root, 'delete', '--force', 'live'] });
  const extraIds = c.tokens.filter((t) => t.kind === 'id' && t.value !== 'live').map((t) => t.value);
  for (const id of new Set(extraIds)) steps.push({ as, args: ['--root', root, 'delete', '--force', id] });
  const r = await runCase(steps, { cwd: caseDir, timeoutMs: 30_000, graceMs: 300 });
  const what = `#${i} ${as}${c.live ? ' (live container)' : ''}: ${JSON.stringify(words).slice(0, 300)}`;
  const problems: string[] = [];
  const k = c.live ? 1 : 0;
  if (c.live && r.steps[0].code !== 0) problems.push(`set-up create failed: ${r.steps[0].status} ${r.steps[0].stderr.trim()}`);
  // run and exec exit with the container process's status; sleep killed by a signal is 128+N.
  const passesStatus = c.verb === 'run' || c.verb === 'exec';
  // --debug adds debug lines and the stack of the error on purpose: there only the first line is the message.
  const cmd = words.includes('--debug') ? { ...r.steps[k], stderr: r.steps[k].stderr.split('\n')[0] + '\n' } : r.steps[k];
  problems.push(...stepProblems(cmd, passesStatus ? Array.from({ length: 256 }, (_, n) => n) : []).map((p) => `command: ${p}`));
  r.steps.slice(k + 1).forEach((s) => {
    // Cleaning up a bad id is itself a fuzz case: one line, exit 1 is fine.
    problems.push(...stepProblems(s).map((p) => `delete --force: ${p}`));
  });
  const left = rootLeftovers(root).filter((e) => e !== 'ch-run-oci');
  if (left.length) problems.push(`state root not empty: ${left.join(' ')}`);
  if (r.leftover.length) problems.push(`processes left: ${r.leftover.join(' | ')}`);
  execFileSync('rm', ['-rf', caseDir]);
  return { what, problems };
}

describe('command-line fuzzing', () => {
  it(`${CASES} random command lines of every verb end in exit 0 or one clean line`, async () => {
    const cases = fc.sample(caseArb, { numRuns: CASES, seed: SEED });
    const t0 = Date.now();
    const outcomes = await pool(cases, PARALLEL, runOne);
    const failures = outcomes.filter((o) => o.problems.length);
    figure('command-line fuzz', CASES, CASES - failures.length, `seed ${SEED}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    expect(failures.length, `seed ${SEED}:\n${summarize(failures)}\n`).toBe(0);
  }, 1_800_000);
});
