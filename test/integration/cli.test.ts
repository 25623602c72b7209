// The command line as clients see it: help, version, errors, logs, an empty
// environment. Drives dist/ch-run-oci as a real process.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chroci, scratch, makeBundle, type As } from '../helpers/runtime';

function oneLineError(r: { status: number | null; stderr: string; signal: NodeJS.Signals | null }, pattern: RegExp): void {
  expect(r.signal).toBeNull();
  expect(r.status).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^ch-run-oci: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('command line', () => {
  it('--help lists every verb and works with an empty environment', () => {
    const r = chroci(['--help'], { env: {} });
    expect(r.status).toBe(0);
    for (const verb of ['create', 'start', 'run', 'state', 'kill', 'delete', 'list', 'ps', 'spec', 'features', 'exec']) {
      expect(r.stdout).toContain(verb);
    }
  });

  it("--version and -v print runc's layout: version, commit (dockerd shows it), spec", () => {
    for (const flag of ['--version', '-v']) {
      const r = chroci([flag], { env: {} });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^ch-run-oci version \d+\.\d+\.\d+\ncommit: ([0-9a-f]{12}(-dirty)?|unknown)\nspec: 1\.\d+\.\d+\n$/);
    }
  });

  it.each(['checkpoint', 'restore'])('%s is a clear one-line error', (verb) => {
    oneLineError(chroci([verb, 'x']), new RegExp(`${verb}: not supported`));
  });

  it.each(['pause', 'resume', 'update', 'events'])('%s of a missing container says it does not exist', (verb) => {
    oneLineError(chroci(['--root', scratch('root'), verb, 'nosuch']), /container "nosuch": does not exist/);
  });

  it("ignores NODE_OPTIONS: the caller's Node settings never load code into the runtime", () => {
    const dir = scratch('root');
    const marker = path.join(dir, 'ran');
    const inject = path.join(dir, 'inject.js');
    fs.writeFileSync(inject, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');`);
    for (const args of [['--version'], ['--root', dir, 'list']]) {
      const r = chroci(args, { env: { PATH: '/usr/bin:/bin', NODE_OPTIONS: `--require ${inject}` } });
      expect(r.status, r.stderr).toBe(0);
      expect(fs.existsSync(marker)).toBe(false);
    }
  });

  it('an unknown verb or flag is a one-line error', () => {
    oneLineError(chroci(['frobnicate']), /frobnicate/);
    oneLineError(chroci(['state', '--bogus', 'x']), /bogus/);
  });

  it('a missing id is a one-line error', () => {
    oneLineError(chroci(['state']), /id/i);
    oneLineError(chroci(['start']), /id/i);
  });

  it('accepts the runc flags it ignores', () => {
    const root = scratch('root');
    const r = chroci(['--root', root, '--systemd-cgroup', '--rootless', 'auto', 'list']);
    expect(r.status).toBe(0);
  });

  it('kill takes a bad signal as a one-line error naming it', () => {
    oneLineError(chroci(['kill', 'x', 'SIGBOGUS']), /SIGBOGUS/);
  });

  it('an invalid container id is refused', () => {
    oneLineError(chroci(['state', '../etc']), /container id/);
    oneLineError(chroci(['state', 'a'.repeat(1025)]), /container id/);
  });
});

describe.each<As>(['root', 'user'])('as %s', (as) => {
  it('state of a missing container says "does not exist"', () => {
    const root = scratch(as);
    oneLineError(chroci(['--root', root, 'state', 'nope'], { as }), /container "nope": does not exist/);
    oneLineError(chroci(['--root', root, 'delete', 'nope'], { as }), /does not exist/);
    expect(chroci(['--root', root, 'delete', '--force', 'nope'], { as }).status).toBe(0);
  });

  it('works from an empty environment (default state root)', () => {
    const r = chroci(['list'], { as, env: {} });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ID\s+PID\s+STATUS/);
  });

  it('spec writes a config.json that create accepts, and refuses to overwrite it', () => {
    const dir = scratch(as);
    for (const flags of [[], ['--rootless']]) {
      const bundle = fs.mkdtempSync(path.join(dir, 'b'));
      if (as === 'user') fs.chmodSync(bundle, 0o777);
      expect(chroci(['spec', ...flags, '--bundle', bundle], { as }).status).toBe(0);
      const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
      expect(config.ociVersion).toMatch(/^1\./);
      oneLineError(chroci(['spec', '--bundle', bundle], { as }), /config\.json: already exists/);
    }
  });

  it('features prints a features document', () => {
    const r = chroci(['features'], { as });
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ociVersionMin).toBe('1.0.0');
    expect(doc.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  });
});

describe('create refuses bad bundles with one line and leaves nothing', () => {
  const cases: [string, (bundle: string) => void, RegExp][] = [
    ['missing config.json', (b) => fs.rmSync(path.join(b, 'config.json')), /config\.json: no such file or directory/],
    ['invalid JSON', (b) => fs.writeFileSync(path.join(b, 'config.json'), '{"ociVersion": "1.0.2",\n  "root": }'), /config\.json.*2:/],
    [
      'a relative hook path',
      (b) =>
        edit(b, (c) => {
          c.hooks = { prestart: [{ path: 'bin/true' }] };
        }),
      /^ch-run-oci: config\.json: \/hooks\/prestart\/0\/path: must be absolute$/,
    ],
    [
      'a terminal without a console socket',
      (b) =>
        edit(b, (c) => {
          c.process.terminal = true;
        }),
      /cannot allocate tty if ch-run-oci will detach without setting console socket/,
    ],
    [
      'bad version',
      (b) =>
        edit(b, (c) => {
          c.ociVersion = '2.0.0';
        }),
      /2\.0\.0/,
    ],
    [
      'args not an array',
      (b) =>
        edit(b, (c) => {
          c.process.args = 'sh';
        }),
      /\/process\/args/,
    ],
    ['missing rootfs', (b) => fs.rmSync(path.join(b, 'rootfs'), { recursive: true }), /root\.path/],
  ];
  it.each(cases)('%s', (_name, breakIt, pattern) => {
    const root = scratch('root');
    const bundle = makeBundle('root');
    breakIt(bundle);
    oneLineError(chroci(['--root', root, 'create', '--bundle', bundle, 'c1']), pattern);
    expect(fs.readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('a missing bundle names the path', () => {
    const root = scratch('root');
    oneLineError(chroci(['--root', root, 'create', '--bundle', '/nonexistent/bundle', 'c1']), /\/nonexistent\/bundle/);
  });
});

function edit(bundle: string, f: (c: any) => void): void {
  const file = path.join(bundle, 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8'));
  f(c);
  fs.writeFileSync(file, JSON.stringify(c));
}

describe('--log', () => {
  it('--log-format json writes one parseable JSON object per line', () => {
    const root = scratch('root');
    const log = path.join(root, 'log.json');
    const r = chroci(['--root', root, '--log', log, '--log-format', 'json', 'state', 'missing']);
    expect(r.status).toBe(1);
    const lines = fs.readFileSync(log, 'utf8').trimEnd().split('\n');
    for (const line of lines) {
      const o = JSON.parse(line);
      expect(o.level).toBe('error');
      expect(o.msg).toMatch(/does not exist/);
      expect(new Date(o.time).toString()).not.toBe('Invalid Date');
    }
  });
});
