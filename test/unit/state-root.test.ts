import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DEFAULT, resolveStateRoot } from '../../src/state/root';
import { removeStateChild, stateChild } from '../helpers/state-build';

const isRoot = process.geteuid?.() === 0;
const NOBODY = 65534;
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'state-root-'));
  fs.chmodSync(tmp, 0o755);
});
afterAll(() => {
  removeStateChild();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (isRoot) fs.rmSync(`/tmp/ch-run-oci-${NOBODY}`, { recursive: true, force: true });
});

function mode(p: string): number {
  return fs.statSync(p).mode & 0o777;
}

describe('resolveStateRoot with --root', () => {
  it('creates missing parents with mode 0700 and returns the path', () => {
    const want = path.join(tmp, 'flag', 'a', 'b');
    expect(resolveStateRoot(want, {})).toBe(want);
    expect(fs.statSync(want).isDirectory()).toBe(true);
    expect(mode(want)).toBe(0o700);
  });

  it('accepts an existing private directory as it is', () => {
    const want = path.join(tmp, 'existing');
    fs.mkdirSync(want, { mode: 0o755 });
    expect(resolveStateRoot(want, {})).toBe(want);
    expect(mode(want)).toBe(0o755);
  });

  it('makes a relative flag absolute', () => {
    const rel = path.relative(process.cwd(), path.join(tmp, 'rel'));
    expect(resolveStateRoot(rel, {})).toBe(path.join(tmp, 'rel'));
  });

  it('refuses a file', () => {
    const file = path.join(tmp, 'file');
    fs.writeFileSync(file, '');
    expect(() => resolveStateRoot(file, {})).toThrow(`state root "${file}": not a directory`);
  });

  it('refuses a world-writable directory', () => {
    const dir = path.join(tmp, 'open');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    expect(() => resolveStateRoot(dir, {})).toThrow(`state root "${dir}": group or world writable (mode 0777)`);
  });

  it('refuses a group-writable directory', () => {
    const dir = path.join(tmp, 'group');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o770);
    expect(() => resolveStateRoot(dir, {})).toThrow('group or world writable (mode 0770)');
  });

  it.runIf(isRoot)('refuses a directory owned by another user', () => {
    const dir = path.join(tmp, 'theirs');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chownSync(dir, NOBODY, NOBODY);
    expect(() => resolveStateRoot(dir, {})).toThrow(`state root "${dir}": owned by uid ${NOBODY}, not by uid 0`);
  });

  it('names the path when it cannot be created', () => {
    const file = path.join(tmp, 'blocker');
    fs.writeFileSync(file, '');
    expect(() => resolveStateRoot(path.join(file, 'sub'), {})).toThrow(`state root "${file}/sub": `);
  });
});

describe.runIf(isRoot)('resolveStateRoot defaults', () => {
  it('uses /run/ch-run-oci for euid 0, even with an empty environment', () => {
    expect(resolveStateRoot(undefined, {})).toBe(ROOT_DEFAULT);
    expect(resolveStateRoot(undefined, { XDG_RUNTIME_DIR: tmp })).toBe(ROOT_DEFAULT);
    expect(mode(ROOT_DEFAULT) & 0o022).toBe(0);
  });

  // The unprivileged rules run for real as uid 65534 in a child with exactly the given environment.
  function asNobody(env: Record<string, string>, flag = '-'): { root?: string; error?: string } {
    const r = spawnSync(process.execPath, [stateChild(), 'root', flag], { uid: NOBODY, gid: NOBODY, env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  function nobodyDir(name: string): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chownSync(dir, NOBODY, NOBODY);
    return dir;
  }

  it('uses $XDG_RUNTIME_DIR/ch-run-oci when the caller owns XDG_RUNTIME_DIR (podman start/kill/delete env)', () => {
    const xdg = nobodyDir('xdg');
    expect(asNobody({ XDG_RUNTIME_DIR: xdg })).toEqual({ root: `${xdg}/ch-run-oci` });
    const st = fs.statSync(`${xdg}/ch-run-oci`);
    expect([st.uid, st.mode & 0o777]).toEqual([NOBODY, 0o700]);
    // Again, now that it exists.
    expect(asNobody({ XDG_RUNTIME_DIR: xdg })).toEqual({ root: `${xdg}/ch-run-oci` });
  });

  it('falls back to a private /tmp/ch-run-oci-<uid> with an empty environment (env -i)', () => {
    fs.rmSync(`/tmp/ch-run-oci-${NOBODY}`, { recursive: true, force: true });
    expect(asNobody({})).toEqual({ root: `/tmp/ch-run-oci-${NOBODY}` });
    const st = fs.statSync(`/tmp/ch-run-oci-${NOBODY}`);
    expect([st.uid, st.mode & 0o777]).toEqual([NOBODY, 0o700]);
  });

  it("falls back when XDG_RUNTIME_DIR is relative, missing or not the caller's", () => {
    const want = { root: `/tmp/ch-run-oci-${NOBODY}` };
    expect(asNobody({ XDG_RUNTIME_DIR: 'run/user' })).toEqual(want);
    expect(asNobody({ XDG_RUNTIME_DIR: path.join(tmp, 'nope') })).toEqual(want);
    expect(asNobody({ XDG_RUNTIME_DIR: tmp })).toEqual(want); // owned by root
  });

  it('refuses a /tmp fallback planted by someone else', () => {
    const planted = `/tmp/ch-run-oci-${NOBODY}`;
    fs.rmSync(planted, { recursive: true, force: true });
    fs.mkdirSync(planted, { mode: 0o700 });
    // The message says what happened and the way out.
    const hint =
      '(made by someone else in the shared /tmp, so it is not used); set XDG_RUNTIME_DIR to a directory of your own, or pass --root DIR';
    expect(asNobody({}).error).toBe(`state root "${planted}": owned by uid 0, not by uid ${NOBODY} ${hint}`);
    fs.rmSync(planted, { recursive: true, force: true });
    fs.symlinkSync(nobodyDir('target'), planted);
    expect(asNobody({}).error).toBe(`state root "${planted}": is a symbolic link ${hint}`);
    fs.rmSync(planted, { force: true });
  });

  it('refuses an XDG root that exists but belongs to someone else', () => {
    const xdg = nobodyDir('xdg2');
    fs.mkdirSync(`${xdg}/ch-run-oci`, { mode: 0o700 });
    expect(asNobody({ XDG_RUNTIME_DIR: xdg }).error).toBe(`state root "${xdg}/ch-run-oci": owned by uid 0, not by uid ${NOBODY}`);
  });

  it('refuses --root owned by another user, for a non-root caller too', () => {
    const dir = path.join(tmp, 'rootowned');
    fs.mkdirSync(dir, { mode: 0o755 });
    expect(asNobody({}, dir).error).toBe(`state root "${dir}": owned by uid 0, not by uid ${NOBODY}`);
  });

  it('euid 0 inside a user namespace that does not own /run uses the unprivileged choices (rootless buildah)', () => {
    const xdg = nobodyDir('xdg-userns');
    const r = spawnSync('unshare', ['--user', '--map-root-user', process.execPath, stateChild(), 'root', '-'], {
      uid: NOBODY,
      gid: NOBODY,
      env: { XDG_RUNTIME_DIR: xdg },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ root: `${xdg}/ch-run-oci` });
    expect(fs.statSync(`${xdg}/ch-run-oci`).uid).toBe(NOBODY);
  });
});
