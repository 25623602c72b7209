// The bundle's shape where it costs every start (scripts/lib/bundle.mjs):
// node:fs, node:path and node:os reach our modules through one facade each,
// not through esbuild's per-importer interop copy of the whole module.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '..', '..');

describe('bundle', () => {
  it('requires node:fs, node:path and node:os once each for all of our modules', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-bundle-'));
    try {
      execFileSync(process.execPath, [path.join(REPO, 'scripts/lib/bundle.mjs'), out], { cwd: REPO, stdio: 'pipe' });
      const app = fs.readFileSync(path.join(out, 'app.js'), 'utf8');
      const count = (m: string): number => app.split(`require("${m}")`).length - 1;
      expect(count('node:path')).toBe(1);
      expect(count('node:os')).toBe(1);
      // The facade, and proper-lockfile's two (its graceful-fs is node:fs here).
      expect(count('node:fs')).toBe(3);
      expect(app).not.toMatch(/\(require\("node:(fs|path|os)"\)\)/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
