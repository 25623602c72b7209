// One deterministic test per product bug the hardening loops found, so each
// stays fixed even when the random cases do not hit it again.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chroci, makeBundle, type As } from '../helpers/runtime';
import { hardenDir, ownedDir, rootLeftovers } from '../helpers/fuzz';

let work: string;
/** Bundles made in the system temp dir, removed at the end. */
const made: string[] = [];

beforeAll(() => {
  work = hardenDir('regr');
});

afterAll(() => {
  if (work) execFileSync('rm', ['-rf', work, ...made]);
});

function bundle(as: As, edit: (c: any) => void): string {
  const b = makeBundle(as, edit);
  made.push(b);
  fs.chmodSync(b, 0o755);
  return b;
}

function oneLine(r: { status: number | null; stderr: string }, re: RegExp): void {
  expect(r.stderr).toMatch(/^ch-run-oci: [^\n]*\n$/);
  expect(r.stderr).toMatch(re);
  expect(r.status).toBe(1);
}

describe('regressions found by the hardening suite', () => {
  it('a config.json that is a fifo is refused at once (create used to hang reading it)', () => {
    const b = path.join(work, 'fifo-bundle');
    fs.mkdirSync(b);
    execFileSync('mkfifo', [path.join(b, 'config.json')]);
    const t = Date.now();
    const r = chroci(['--root', path.join(work, 'fifo-state'), 'create', '--bundle', b, 'f'], { timeout: 10_000 });
    oneLine(r, /config\.json: not a regular file/);
    expect(Date.now() - t).toBeLessThan(5_000);
  });

  it('a NUL byte in any config string names its field (it used to name a runner step)', () => {
    for (const [edit, field] of [
      [
        (c: any) => {
          c.linux.maskedPaths = ['/a\u0000b'];
        },
        '/linux/maskedPaths/0',
      ],
      [
        (c: any) => {
          c.process.cwd = '/\u0000';
        },
        '/process/cwd',
      ],
      [
        (c: any) => {
          c.process.env.push('A=\u0000');
        },
        '/process/env/',
      ],
      [
        (c: any) => {
          c.annotations = { 'k\u0000': 'v' };
        },
        '/annotations/k',
      ],
    ] as [(c: any) => void, string][]) {
      const b = bundle('root', edit);
      const r = chroci(['--root', path.join(work, 'nul-state'), 'create', '--bundle', b, 'n']);
      oneLine(r, new RegExp(`config\\.json: ${field.replace(/\//g, '\\/')}.*must not contain a NUL byte`));
      fs.rmSync(b, { recursive: true, force: true });
    }
  });

  it('unknown fields nested 100,000 deep are accepted without a stack overflow', () => {
    const b = bundle('root', (c) => {
      c.process.args = ['true'];
    });
    const file = path.join(b, 'config.json');
    const text = fs.readFileSync(file, 'utf8').replace(/^\{/, `{"deep": ${'['.repeat(100_000)}${']'.repeat(100_000)},`);
    fs.writeFileSync(file, text);
    const r = chroci(['--root', path.join(work, 'deep-state'), 'run', '--bundle', b, 'deep']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a newline inside a bad value still gives one stderr line', () => {
    const b = bundle('root', (c) => {
      c.process.capabilities.bounding.push('CAP_\nFLY');
    });
    const r = chroci(['--root', path.join(work, 'nl-state'), 'create', '--bundle', b, 'nl']);
    oneLine(r, /unknown capability CAP_\\nFLY/);
  });

  for (const as of ['root', 'user'] as As[]) {
    it(`RLIMIT_NOFILE of 1 applies to the program and no longer kills the container at start (${as})`, () => {
      const b = bundle(as, (c) => {
        c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }];
        c.process.args = ['sh', '-c', 'ulimit -n; ulimit -Hn'];
      });
      const r = chroci(['--root', path.join(ownedDir(work, `nofile-${as}`, as), 'state'), 'run', '--bundle', b, 'nofile'], { as });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('1\n1\n');
      expect(r.status).toBe(0);
    });
  }

  it('process.args[0] naming a directory fails create, not start', () => {
    const b = bundle('root', (c) => {
      c.process.args = ['/bin'];
    });
    const root = path.join(work, 'dir-exec-state');
    const r = chroci(['--root', root, 'create', '--bundle', b, 'd']);
    oneLine(r, /exec: \/bin: permission denied/);
    expect(rootLeftovers(root)).toEqual([]);
  });

  it('a create killed between claiming its id and writing state is "stopped", not "creating" forever', () => {
    const root = path.join(work, 'half-state');
    fs.mkdirSync(path.join(root, 'half'), { recursive: true, mode: 0o700 });
    fs.chmodSync(root, 0o700);
    // What such a create leaves: its directory and its lock, marked with its (now dead) pid.
    const dead = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
    fs.mkdirSync(path.join(root, '.half.lock'));
    fs.writeFileSync(path.join(root, '.half.lock', `holder-${dead}-1`), '');
    expect(JSON.parse(chroci(['--root', root, 'state', 'half']).stdout).status).toBe('stopped');
    expect(chroci(['--root', root, 'delete', 'half']).status).toBe(0);
    expect(rootLeftovers(root)).toEqual([]);
  });
});
