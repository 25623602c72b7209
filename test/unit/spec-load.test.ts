import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors';
import { lineColumn, loadBundle } from '../../src/spec/load';
import { useValidators } from '../../src/spec/validate';
import { ourValidators } from './spec-validators';

const MINIMAL = { ociVersion: '1.0.2-dev', root: { path: 'rootfs' }, process: { args: ['true'], cwd: '/' } };

describe('loadBundle', () => {
  let dir: string;
  let cwd: string;
  beforeAll(() => useValidators(ourValidators()));
  afterAll(() => useValidators(undefined));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-load-'));
    cwd = process.cwd();
  });
  afterEach(() => {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function bundleWith(text: string): string {
    const b = path.join(dir, 'b');
    fs.mkdirSync(b, { recursive: true });
    fs.writeFileSync(path.join(b, 'config.json'), text);
    return b;
  }

  it('loads a bundle given relative to the working directory', () => {
    bundleWith(JSON.stringify(MINIMAL));
    process.chdir(dir);
    const r = loadBundle('b');
    expect(r.bundle).toBe(path.join(fs.realpathSync(dir), 'b'));
    expect(r.configPath).toBe(path.join(r.bundle, 'config.json'));
    expect(r.config.process.args).toEqual(['true']);
  });

  it('loads "." (the default --bundle)', () => {
    const b = bundleWith(JSON.stringify(MINIMAL));
    process.chdir(b);
    expect(loadBundle('.').bundle).toBe(fs.realpathSync(b));
  });

  it('names a missing bundle', () => {
    const missing = path.join(dir, 'nope');
    expect(() => loadBundle(missing)).toThrow(new UserError(`bundle ${missing}`, 'no such file or directory'));
  });

  it('names a bundle that is a file', () => {
    const f = path.join(dir, 'file');
    fs.writeFileSync(f, '');
    expect(() => loadBundle(f)).toThrow(new UserError(`bundle ${f}`, 'not a directory'));
  });

  it('refuses an empty bundle argument', () => {
    expect(() => loadBundle('')).toThrow('bundle: the bundle path is empty');
  });

  it('names a missing config.json', () => {
    const b = path.join(dir, 'empty');
    fs.mkdirSync(b);
    expect(() => loadBundle(b)).toThrow(new UserError(`cannot read ${b}/config.json`, 'no such file or directory'));
  });

  it('names a config.json that is a directory', () => {
    const b = path.join(dir, 'weird');
    fs.mkdirSync(path.join(b, 'config.json'), { recursive: true });
    expect(() => loadBundle(b)).toThrow(new UserError(`cannot read ${b}/config.json`, 'is a directory'));
  });

  it('gives line:column of a JSON syntax error', () => {
    const b = bundleWith('{\n  "ociVersion": "1.0.2",\n  "root": {"path": "rootfs"}\n  "process": {}\n}\n');
    expect(() => loadBundle(b)).toThrow(new UserError(`${b}/config.json:4:3`, "invalid JSON: expected ',' or '}' after property value"));
  });

  it('gives line:column of a trailing comma', () => {
    const b = bundleWith('{"ociVersion": "1.0.2",}');
    expect(() => loadBundle(b)).toThrow(new UserError(`${b}/config.json:1:24`, 'invalid JSON: expected double-quoted property name'));
  });

  it('reports a truncated file at its end', () => {
    const b = bundleWith('{\n  "ociVersion": ');
    expect(() => loadBundle(b)).toThrow(new UserError(`${b}/config.json:2:17`, 'invalid JSON: unexpected end of JSON input'));
  });

  it('reports an empty file', () => {
    const b = bundleWith('');
    expect(() => loadBundle(b)).toThrow(new UserError(`${b}/config.json`, 'invalid JSON: the file is empty'));
  });

  it('refuses a top level that is not an object', () => {
    const b = bundleWith('[]');
    expect(() => loadBundle(b)).toThrow('config.json: must be a JSON object, not an array');
  });

  it('validates what it loaded', () => {
    const b = bundleWith(JSON.stringify({ ...MINIMAL, process: { args: [], cwd: '/' } }));
    expect(() => loadBundle(b)).toThrow('config.json: /process/args: must be a non-empty array');
  });

  it('tolerates a UTF-8 byte order mark', () => {
    const b = bundleWith('\ufeff' + JSON.stringify(MINIMAL));
    expect(loadBundle(b).config.ociVersion).toBe('1.0.2-dev');
  });
});

describe('lineColumn', () => {
  it('counts lines and columns from 1', () => {
    expect(lineColumn('abc', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\n', 3)).toEqual({ line: 2, column: 1 });
  });
});
