// Checks, before any test, that the machine is what scripts/setup-clients
// makes it, so a missing step fails once with the fix instead of in every test.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { BUSYBOX, DEBIAN, IS_CRUN, RUNTIME, WHO, asWho } from './helpers';

export default function setup(): void {
  if (process.geteuid?.() !== 0) throw new Error('the client suite runs as root (it also runs the clients as chroci-sub and chroci-test)');
  const fix = 'run scripts/setup-clients (as root) first';
  for (const tool of ['buildah', 'podman', 'conmon', 'setpriv']) {
    if (spawnSync('which', [tool]).status !== 0) throw new Error(`${tool} is not installed: ${fix}`);
  }
  if (!fs.existsSync(RUNTIME)) throw new Error(`RUNTIME ${RUNTIME} does not exist (build it, or set RUNTIME=crun for the control run)`);
  for (const who of WHO) {
    const check = (cmd: string[], what: string): void => {
      const argv = asWho(who, cmd);
      const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: '/' });
      if (r.status !== 0) throw new Error(`${who}: ${what}: ${fix}\n${r.stderr}`);
    };
    check(['test', '-x', RUNTIME], `cannot execute ${RUNTIME}`);
    check(['podman', 'image', 'exists', BUSYBOX], `image ${BUSYBOX} missing`);
    check(['podman', 'image', 'exists', DEBIAN], `image ${DEBIAN} missing`);
  }
  process.stderr.write(`client suite: RUNTIME=${RUNTIME}${IS_CRUN ? ' (control run)' : ''}\n`);
}
