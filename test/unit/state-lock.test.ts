// The lock's file system: callback-style calls made with their sync twins, so
// a locked verb never starts libuv's thread pool.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { viaSync } from '../../src/state/lock';

describe('viaSync', () => {
  it('passes the result to the callback, before returning', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-'));
    let got: fs.Stats | undefined;
    viaSync((p: string) => fs.statSync(p))(dir, (err, st) => {
      expect(err).toBeNull();
      got = st as fs.Stats;
    });
    expect(got?.isDirectory()).toBe(true);
    fs.rmdirSync(dir);
  });

  it('passes the error (with its code) to the callback, not as a throw', () => {
    let code: string | undefined;
    viaSync((p: string) => fs.statSync(p))('/nonexistent/lock-test', (err) => {
      code = err?.code;
    });
    expect(code).toBe('ENOENT');
  });

  it('passes every argument but the callback through', () => {
    const seen: unknown[] = [];
    viaSync((a: number, b: string) => {
      seen.push(a, b);
      return a;
    })(1, 'x', (err, r) => seen.push(err, r));
    expect(seen).toEqual([1, 'x', null, 1]);
  });
});
