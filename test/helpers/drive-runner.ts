// Test driver, run as its own process (as root or as an unprivileged user):
//   node drive-runner.js CONFIG_JSON_FILE BUNDLE STATE_DIR
// Plans the container with the caller's real ids, launches the runner in wait
// mode, releases it through the exec fifo (what `start` does) and exits with
// the container's status (NOWAIT=1: runner exits at once, 0 once the pid is
// gone; PRESERVE=N: fds 3.. pass through; EXEC=JSON args: run them in the
// running container with an exec plan, exit with their status). Launch failures: "LAUNCH-ERROR: <message>" on
// stderr, exit 99. The container's stdio is this process's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildPlan } from '../../src/container/plan';
import { readCallerIds } from '../../src/container/idmap';
import { launchRunner } from '../../src/runner/launch';
import { buildExecPlan, readContainerView } from '../../src/container/exec-plan';
import { isAlive, sleep } from './procs';

async function main(): Promise<number> {
  const [configFile, bundle, stateDir] = process.argv.slice(2);
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const wait = !process.env.NOWAIT;
  const plan = buildPlan(config, {
    bundle,
    rootfs: path.resolve(bundle, config.root.path),
    stateDir,
    caller: readCallerIds(),
    wait,
    preserveFds: Number(process.env.PRESERVE ?? 0),
  });
  const launched = await launchRunner(plan, {});
  if (process.env.REPORT_PID) fs.writeFileSync(process.env.REPORT_PID, String(launched.pid));
  if (process.env.HOLD_MS) await new Promise((r) => setTimeout(r, Number(process.env.HOLD_MS)));
  const fd = fs.openSync(path.join(stateDir, 'exec.fifo'), 'r');
  fs.readSync(fd, Buffer.alloc(1));
  fs.closeSync(fd);
  if (process.env.EXEC) {
    // Run EXEC (JSON args) inside the running container, then stop the container.
    await new Promise((r) => setTimeout(r, 100));
    const proc = { ...config.process, args: JSON.parse(process.env.EXEC) };
    const plan = buildExecPlan(proc, readContainerView(launched.pid), { wait: true, preserveFds: 0 });
    // EXEC_TARGET: what TypeScript checked is stale by the time the runner
    // joins ("reused": another start time) or was never a container ("self":
    // this driver, in the caller's namespaces); the runner must refuse both.
    if (process.env.EXEC_TARGET === 'reused') plan.target.startTime = '1';
    if (process.env.EXEC_TARGET === 'self') {
      const start = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[22 - 3];
      plan.target = { pid: process.pid, startTime: start };
      plan.joins = plan.joins.map((j) => ({ ...j, path: j.path.replace(`/proc/${launched.pid}/`, `/proc/${process.pid}/`) }));
    }
    let code: number;
    try {
      code = await (await launchRunner(plan, {})).exited!;
    } finally {
      process.kill(launched.pid, 'SIGKILL');
    }
    await launched.exited;
    return code;
  }
  if (wait) return launched.exited!;
  // Without wait the runner is gone and the container is not our child: poll.
  while (isAlive(launched.pid)) await sleep(10);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`LAUNCH-ERROR: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(99);
  },
);
