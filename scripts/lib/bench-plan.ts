// For scripts/bench, "runner alone": writes the plan ch-run-oci would send the
// runner for BUNDLE (validated, policy applied, planned for the caller's ids,
// wait mode as in `run`) but without the exec fifo, so that
//   ch-run-oci-runner exec 3 4 3<PLAN 4>/dev/null
// sets the container up and execs its process at once, with no ch-run-oci
// process around it. Bundled with esbuild and run by scripts/bench.
//
// Usage: node bench-plan.js BUNDLE OUT
import * as fs from 'node:fs';
import { planContainer, prepareBundle } from '../../src/container/prepare';
import { encodeRecords, planRecords } from '../../src/runner/protocol';

const [bundleArg, out] = process.argv.slice(2);
if (!bundleArg || !out) {
  process.stderr.write('usage: bench-plan BUNDLE OUT\n');
  process.exit(2);
}
const prepared = prepareBundle(bundleArg);
// The state directory only names the fifo's place; with the fifo record dropped it is never used.
const plan = planContainer(prepared, { stateDir: prepared.bundle, wait: true, preserveFds: 0 });
fs.writeFileSync(out, encodeRecords(planRecords(plan).filter(([tag]) => tag !== 'fifo')));
