// Global set-up for the integration and hardening tests: the unprivileged test user (no
// /etc/subuid range, like a CI runner), the subreaper helper, and one scratch
// directory for the whole run (TMPDIR, so every os.tmpdir() in the tests lands
// there), removed when the run ends.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUILT } from './helpers/repo';
import { TEST_USER as USER } from './helpers/runtime';
import { buildReaper } from './helpers/fuzz';

export default function setup(): () => void {
  if (process.geteuid?.() !== 0) throw new Error('the integration tests must run as root (they also test as an unprivileged user)');
  if (spawnSync('getent', ['passwd', USER]).status !== 0) {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', USER]);
  }
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    if (
      fs.existsSync(f) &&
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .some((l) => l.startsWith(`${USER}:`))
    ) {
      throw new Error(`${USER} must have no range in ${f}`);
    }
  }
  if (!fs.existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);
  buildReaper();
  return scratchRun();
}

/** Points TMPDIR at a fresh directory (test workers inherit it); the returned teardown removes it. */
function scratchRun(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chroci-run-'));
  fs.chmodSync(dir, 0o1777); // like /tmp: the test user makes its own dirs here too
  process.env.TMPDIR = dir;
  return () => {
    if (process.env.CHROCI_KEEP_SCRATCH) return;
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      console.warn(`test scratch ${dir} not removed: ${(e as Error).message}`);
    }
  };
}
