// Test bundles: scripts/mkbundle makes a busybox rootfs and the default config.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OciConfig } from '../../src/spec/types';

export const REPO = path.resolve(__dirname, '../..');

/** A fresh bundle in `dir` (made world-readable so another user can run it). */
export function makeBundle(dir: string, rootless = false): { bundle: string; config: OciConfig } {
  execFileSync(path.join(REPO, 'scripts/mkbundle'), rootless ? [dir, '--rootless'] : [dir], { stdio: 'inherit' });
  fs.chmodSync(dir, 0o755);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as OciConfig;
  return { bundle: dir, config };
}
