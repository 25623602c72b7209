// Global set-up for the integration tests: the unprivileged test user (no
// /etc/subuid range, like a CI runner) and the subreaper helper.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..');
const USER = 'chroci-test';

export default function setup(): void {
  if (process.geteuid?.() !== 0) throw new Error('the integration tests must run as root (they also test as an unprivileged user)');
  if (spawnSync('getent', ['passwd', USER]).status !== 0) {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', USER]);
  }
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    if (fs.existsSync(f) && fs.readFileSync(f, 'utf8').split('\n').some((l) => l.startsWith(`${USER}:`))) {
      throw new Error(`${USER} must have no range in ${f}`);
    }
  }
  const exe = path.join(REPO, 'dist', 'ch-run-oci');
  if (!fs.existsSync(exe)) throw new Error(`${exe} is missing: run npm run build first`);
  fs.mkdirSync(path.join(REPO, 'dist', 'test'), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', path.join(REPO, 'dist', 'test', 'subreaper'), path.join(REPO, 'test', 'helpers', 'subreaper.c')]);
}
