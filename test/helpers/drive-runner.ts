// Test driver, run as its own process (as root or as an unprivileged user):
//   node drive-runner.js CONFIG_JSON_FILE BUNDLE STATE_DIR
// Plans the container with the caller's real ids, launches the runner in wait
// mode, releases it through the exec fifo (what `start` does) and exits with
// the container's status. Launch failures: "LAUNCH-ERROR: <message>" on
// stderr, exit 99. The container's stdio is this process's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildPlan, readCallerIds } from '../../src/container/plan';
import { launchRunner } from '../../src/runner/launch';

async function main(): Promise<number> {
  const [configFile, bundle, stateDir] = process.argv.slice(2);
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const plan = buildPlan(config, {
    bundle,
    rootfs: path.resolve(bundle, config.root.path),
    stateDir,
    caller: readCallerIds(),
  });
  const launched = await launchRunner(plan, { wait: true, preserveFds: Number(process.env.PRESERVE ?? 0) });
  if (process.env.REPORT_PID) fs.writeFileSync(process.env.REPORT_PID, String(launched.pid));
  if (process.env.HOLD_MS) await new Promise((r) => setTimeout(r, Number(process.env.HOLD_MS)));
  const fd = fs.openSync(path.join(stateDir, 'exec.fifo'), 'r');
  fs.readSync(fd, Buffer.alloc(1));
  fs.closeSync(fd);
  return launched.exited!;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`LAUNCH-ERROR: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(99);
  },
);
