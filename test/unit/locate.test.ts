import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors';
import { candidateDirs, devRunner, embeddedRunner, resetRunnerCache, runnerPath, sealExecutable } from '../../src/runner/locate';

// A tiny "runner": a shell script that prints its arguments. Exec'ing it via
// /proc/PID/fd/N goes through the same kernel path as the real static binary.
const SCRIPT = Buffer.from('#!/bin/sh\necho "args:$*"\n');

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'locate-test-'));
});
afterEach(() => {
  resetRunnerCache();
  delete process.env.CH_RUN_OCI_RUNNER;
  fs.rmSync(tmp, { recursive: true, force: true });
});

function fakeRepo(withRunner: boolean): string {
  const repo = path.join(tmp, 'repo');
  fs.mkdirSync(path.join(repo, 'src/runner'), { recursive: true });
  fs.mkdirSync(path.join(repo, 'dist/bundle'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'ch-run-oci' }));
  if (withRunner) {
    fs.mkdirSync(path.join(repo, 'dist/runner'));
    fs.writeFileSync(path.join(repo, 'dist/runner/ch-run-oci-runner'), SCRIPT, { mode: 0o755 });
  }
  return repo;
}

describe('runnerPath in a development tree', () => {
  it('finds dist/runner from src/runner (vitest) and from dist/bundle (esbuild bundle)', () => {
    const repo = fakeRepo(true);
    const want = path.join(repo, 'dist/runner/ch-run-oci-runner');
    expect(devRunner(path.join(repo, 'src/runner'))).toBe(want);
    expect(devRunner(path.join(repo, 'dist/bundle'))).toBe(want);
  });

  it('says how to fix a missing runner', () => {
    const repo = fakeRepo(false);
    expect(() => devRunner(path.join(repo, 'src/runner'))).toThrow(UserError);
    expect(() => devRunner(path.join(repo, 'src/runner'))).toThrow(
      `runner not built (${path.join(repo, 'dist/runner/ch-run-oci-runner')}): run npm run build`,
    );
  });
});

describe('CH_RUN_OCI_RUNNER', () => {
  it('overrides the runner', () => {
    const p = path.join(tmp, 'r');
    fs.writeFileSync(p, SCRIPT, { mode: 0o755 });
    process.env.CH_RUN_OCI_RUNNER = p;
    expect(runnerPath()).toBe(p);
  });

  it('names the variable when the path cannot be executed', () => {
    process.env.CH_RUN_OCI_RUNNER = path.join(tmp, 'nope');
    expect(() => runnerPath()).toThrow(`CH_RUN_OCI_RUNNER=${path.join(tmp, 'nope')}: no such file or directory`);
  });
});

describe('the embedded runner copy', () => {
  it('tries XDG_RUNTIME_DIR, the state root, the temp dir, /dev/shm, skipping unset and duplicates', () => {
    expect(candidateDirs('/state', { XDG_RUNTIME_DIR: '/run/user/1' })).toEqual(['/run/user/1', '/state', os.tmpdir(), '/dev/shm']);
    expect(candidateDirs(undefined, { XDG_RUNTIME_DIR: '' })).toEqual([os.tmpdir(), '/dev/shm']);
    expect(candidateDirs('relative', {})).not.toContain('relative');
  });

  it('is read from the executable: outside one that is an error naming the asset, not a file looked up', () => {
    // vitest is no single executable application: node:sea refuses.
    expect(() => embeddedRunner(tmp)).toThrow(/^embedded runner runner\/ch-run-oci-runner: /);
  });

  it('is an unnamed, read-only, executable file: nothing appears on disk', () => {
    const dir = path.join(tmp, 'd');
    fs.mkdirSync(dir);
    const s = sealExecutable(SCRIPT, [dir]);
    expect(s.path).toBe(`/proc/${process.pid}/fd/${s.fd}`);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fs.fstatSync(s.fd).mode & 0o777).toBe(0o500);
    expect(execFileSync(s.path, ['create', 'a b']).toString()).toBe('args:create a b\n');
    fs.closeSync(s.fd);
  });

  it('falls through to the next directory and names every failure', () => {
    const good = path.join(tmp, 'good');
    fs.mkdirSync(good);
    const s = sealExecutable(SCRIPT, [path.join(tmp, 'missing'), good]);
    expect(execFileSync(s.path).toString()).toBe('args:\n');
    fs.closeSync(s.fd);
    expect(() => sealExecutable(SCRIPT, [path.join(tmp, 'a'), path.join(tmp, 'b')])).toThrow(
      `cannot prepare the embedded runner: ${path.join(tmp, 'a')}: no such file or directory; ${path.join(tmp, 'b')}: no such file or directory`,
    );
  });

  it('is made once per process, and made again if someone changed it', () => {
    const asset = (): Buffer => Buffer.from(SCRIPT);
    const first = embeddedRunner(tmp, asset);
    expect(embeddedRunner(tmp, asset)).toBe(first);
    // The owner can chmod and rewrite the inode through /proc: must be noticed.
    fs.chmodSync(first, 0o700);
    fs.writeFileSync(first, '#!/bin/sh\necho evil\n');
    const second = embeddedRunner(tmp, asset);
    expect(execFileSync(second, ['ok']).toString()).toBe('args:ok\n');
  });

  it('reports an unreadable asset as a user error', () => {
    const missing = (): Buffer => fs.readFileSync(path.join(tmp, 'none'));
    expect(() => embeddedRunner(tmp, missing)).toThrow('embedded runner runner/ch-run-oci-runner: no such file or directory');
    expect(() => embeddedRunner(tmp, missing)).toThrow(UserError);
  });
});
