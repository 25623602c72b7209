// Suite scaffolding for the hardening tests (imports vitest, so it stays out
// of fuzz.ts, which the global set-up also loads).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { makeBundle, type As } from './runtime';
import { hardenDir } from './fuzz';

/**
 * A suite's scratch directory and one bundle per side whose process sleeps
 * (something for start/kill/exec/ps to act on), made before and removed after
 * the suite. Read `work` and `bundles` inside tests, not at load time.
 */
export function sleepingBundles(name: string): { work: string; bundles: Record<As, string> } {
  const s = { work: '', bundles: { root: '', user: '' } as Record<As, string> };
  beforeAll(() => {
    s.work = hardenDir(name);
    for (const as of ['root', 'user'] as As[]) {
      s.bundles[as] = makeBundle(as, (c) => {
        c.process.args = ['sleep', '30'];
      });
      fs.chmodSync(s.bundles[as], 0o755);
    }
  }, 120_000);
  afterAll(() => {
    if (s.work) execFileSync('rm', ['-rf', s.work, ...Object.values(s.bundles).filter(Boolean)]);
  });
  return s;
}
