// Hardening harness: runs a "case" (a few ch-run-oci invocations) under the
// subreaper (test/helpers/subreaper.c), so every process the
// case leaves behind is ours to see and kill, and judges what users see:
// exit 0, or exit 1 with exactly one line on stderr — never a stack trace, a
// signal death, a hang, a leftover state directory or a leftover process.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileC } from './repo';
import { EXE, REPO, asArgv, chownTree, defaultEnv, testUser, type As } from './runtime';

export const REAPER = path.join(REPO, 'dist', 'test', 'subreaper');

/** Compiles the subreaper (the global set-up calls this once). */
export function buildReaper(): void {
  compileC(REAPER, [path.join(REPO, 'test', 'helpers', 'subreaper.c')]);
}

/** Long mode (scripts/hardening --long) runs the loops at full size. */
export const LONG = process.env.CHROCI_HARDEN_LONG === '1';

export interface Step {
  args: string[];
  as?: As;
  /** SIGKILL ch-run-oci this many ms after it started. */
  killMs?: number;
  /** Run only when the previous step exited 0. */
  ifOk?: boolean;
  env?: Record<string, string>;
  /** Run this argv instead of ch-run-oci (still wrapped for `as`). */
  exe?: string;
  /** stdout and stderr are one pipe the subreaper reads after the last step (one step at most). */
  pipe?: boolean;
  /** List the subreaper's children after the step. */
  children?: boolean;
  /** Not a command: wait for the pid in this file, the subreaper's child, for its status. */
  reap?: string;
}

export interface StepResult {
  /** "exit N", "signal N", "timeout", "killed MS" or "skipped". */
  status: string;
  code?: number;
  stdout: string;
  stderr: string;
  /** With `children`: "PID COMM" of the subreaper's children after the step. */
  children: string[];
}

export interface CaseResult {
  steps: StepResult[];
  /** With a `pipe` step: what came through it, and whether it reached EOF ("yes" or "timeout"). */
  pipe: string;
  pipeEof: string;
  /** "PID CMDLINE" of every process still alive after the case (then killed). */
  leftover: string[];
  ms: number;
}

export interface CaseOptions {
  timeoutMs?: number;
  graceMs?: number;
  cwd?: string;
  /**
   * Run the subreaper itself as this side (as buildah would be), its steps
   * then as it (each step's `as` does not apply); by default it runs as root
   * and each step as its own `as`.
   */
  as?: As;
}

/** Runs the steps in order under one subreaper; never throws for what ch-run-oci does. */
export async function runCase(steps: Step[], o: CaseOptions = {}): Promise<CaseResult> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-case-'));
  if (o.as) chownTree(out, o.as);
  const argv: string[] = [out, String(o.timeoutMs ?? 30_000), String(o.graceMs ?? 300)];
  steps.forEach((s, i) => {
    if (i > 0) argv.push(';;');
    if (s.reap !== undefined) return void argv.push(`@reap=${s.reap}`);
    if (s.killMs !== undefined) argv.push(`@kill=${Math.round(s.killMs)}`);
    if (s.ifOk) argv.push('@ifok');
    if (s.pipe) argv.push('@pipe');
    if (s.children) argv.push('@children');
    const cmd = [s.exe ?? EXE, ...s.args];
    const as = s.as ?? 'root';
    argv.push(...(o.as ? cmd : asArgv(as, cmd, s.env ?? defaultEnv(as))));
  });
  const reaper = o.as ? asArgv(o.as, [REAPER, ...argv], defaultEnv(o.as)) : [REAPER, ...argv];
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(reaper[0], reaper.slice(1), { cwd: o.cwd ?? os.tmpdir(), stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`subreaper exited ${code}`))));
  });
  const ms = Date.now() - t0;
  const read = (name: string): string => {
    try {
      return fs.readFileSync(path.join(out, name), 'utf8');
    } catch {
      return '';
    }
  };
  const results = steps.map((_, i) => {
    const status = read(`${i}.status`).trim();
    const m = /^exit (\d+)$/.exec(status);
    const children = read(`${i}.children`).split('\n').filter(Boolean);
    return { status, code: m ? Number(m[1]) : undefined, stdout: read(`${i}.out`), stderr: read(`${i}.err`), children };
  });
  const leftover = read('leftover').split('\n').filter(Boolean);
  const pipe = read('pipe');
  const pipeEof = read('pipe.eof').trim();
  fs.rmSync(out, { recursive: true, force: true });
  return { steps: results, pipe, pipeEof, leftover, ms };
}

/** Runs fn over items with at most n at a time; results in order. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

/** How many cases to run side by side: the machine has 2 cores, and each case is mostly node start-up. */
export const PARALLEL = Math.max(2, Math.min(6, os.cpus().length * 2));

const STACK = /\n\s+at |\bat .*\.[cm]?[jt]s:\d+|^\s+at /m;

/**
 * What is wrong with one step's outcome as a user sees it (empty: clean).
 * `allowed` are further exit codes that are fine for this step (e.g. `run`'s
 * container status).
 */
export function stepProblems(r: StepResult, allowed: number[] = []): string[] {
  const p: string[] = [];
  if (r.status === 'skipped' || r.status.startsWith('killed')) return p;
  if (r.status === 'timeout') return ['hang (timeout)'];
  if (r.status.startsWith('signal')) return [`died by ${r.status}`];
  if (r.code === undefined) return [`no status (${JSON.stringify(r.status)})`];
  if (STACK.test(r.stderr)) p.push('stack trace on stderr');
  if (/internal error/.test(r.stderr)) p.push(`internal error: ${firstLine(r.stderr)}`);
  if (r.code === 1) {
    const lines = r.stderr.replace(/\n$/, '').split('\n');
    if (r.stderr === '' || lines.length !== 1)
      p.push(`exit 1 with ${r.stderr === '' ? 0 : lines.length} stderr lines: ${JSON.stringify(r.stderr.slice(0, 300))}`);
    else if (!lines[0].startsWith('ch-run-oci: ')) p.push(`stderr line not ours: ${JSON.stringify(lines[0].slice(0, 200))}`);
  } else if (r.code !== 0 && !allowed.includes(r.code)) {
    p.push(`exit ${r.code}: ${firstLine(r.stderr)}`);
  }
  return p;
}

export function firstLine(s: string): string {
  return JSON.stringify(s.split('\n')[0].slice(0, 200));
}

/** Entries left in a state root (container dirs, lock dirs, temp files): none after a finished case. */
export function rootLeftovers(root: string): string[] {
  try {
    return fs.readdirSync(root);
  } catch {
    return [];
  }
}

/** A scratch tree for one test file, reachable (not writable) by the test user. */
export function hardenDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `chroci-harden-${name}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** A directory owned by whoever runs `as`. */
export function ownedDir(parent: string, name: string, as: As): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (as === 'user') {
    const u = testUser();
    fs.chownSync(dir, u.uid, u.gid);
  }
  return dir;
}

/** The figure line a hardening test prints, e.g. "config fuzz: 150 cases, 150 clean". */
export function figure(name: string, cases: number, clean: number, extra = ''): string {
  const line = `${name}: ${cases} cases, ${clean} clean${extra ? `, ${extra}` : ''}`;
  process.stdout.write(`FIGURE ${line}\n`);
  const file = process.env.CHROCI_HARDEN_FIGURES;
  if (file) fs.appendFileSync(file, line + '\n');
  return line;
}

/** Failures grouped for a readable assertion message (at most `max` shown). */
export function summarize(failures: { what: string; problems: string[] }[], max = 15): string {
  return failures
    .slice(0, max)
    .map((f) => `- ${f.what}\n    ${f.problems.join('\n    ')}`)
    .join('\n');
}
