// Test driver (bundled with esbuild and run as its own process):
//   node kill-at-pid.js CONFIG_JSON_FILE BUNDLE STATE_DIR PID_FILE
// Launches the runner for a container and, when the runner reports the pid,
// writes it to PID_FILE and then never confirms it: the test SIGKILLs us in
// exactly the window where the pid is known but not yet recorded, and checks
// that the container process does not survive us.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildPlan } from '../../src/container/plan';
import { readCallerIds } from '../../src/container/idmap';
import { launchRunner } from '../../src/runner/launch';

async function main(): Promise<void> {
  const [configFile, bundle, stateDir, pidFile] = process.argv.slice(2);
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const plan = buildPlan(config, {
    bundle,
    rootfs: path.resolve(bundle, config.root.path),
    stateDir,
    caller: readCallerIds(),
    wait: false,
    preserveFds: 0,
  });
  await launchRunner(plan, {
    onPid: (pid) => {
      fs.writeFileSync(pidFile, String(pid));
      return new Promise<void>(() => {}); // never recorded
    },
  });
}

main().catch((err) => {
  process.stderr.write(`LAUNCH-ERROR: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(99);
});
