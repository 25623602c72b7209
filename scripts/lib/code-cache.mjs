// Makes the V8 code caches src/boot.ts loads (BUNDLEDIR/app.js.cache,
// lazy/*.js.cache): runs the bundle the way clients do, under the Node the
// executable embeds (this script's), with CH_RUN_OCI_CODE_CACHE_OUT set, so each
// cache holds the functions that ran, not only the top level. Nothing here
// needs a container: `create` runs to the runner, which is /bin/false.
//
// app.js's cache comes from `start` of a container that does not exist: the
// hot verbs' common path (command line, state root, record, the lock). V8
// reads all of a cache on every start, and one trained on `create` is ~2x
// the size (measured with callgrind, instructions: state 112 M -> 102 M,
// start 118 M -> 110 M, delete 129 M -> 124 M, create ~30 M dearer; create
// runs once per RUN step, state ten times a second).
//
// Usage: node scripts/lib/code-cache.mjs BUNDLEDIR
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const dir = path.resolve(process.argv[2] ?? 'dist/bundle');
const main = path.join(dir, 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ch-run-oci-cache-'));
const EXPECTED = ['app.js.cache', 'lazy/validators.js.cache', 'lazy/yargs.js.cache'];

function run(out, args, env = {}) {
  const r = spawnSync(process.execPath, [main, ...args], {
    cwd: tmp,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CH_RUN_OCI_CODE_CACHE_OUT: out, ...env },
  });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

try {
  for (const f of EXPECTED) fs.rmSync(path.join(dir, f), { force: true });
  const bundle = path.join(tmp, 'bundle');
  const state = path.join(tmp, 'state');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  // A config from `spec` (its caches are thrown away).
  let r = run(path.join(tmp, 'discard'), ['spec', '--bundle', bundle]);
  if (r.status !== 0) throw new Error(`spec failed: ${r.out}`);
  // app.js: the hot path.
  r = run(dir, ['--root', state, 'start', 'train']);
  if (!/container "train": does not exist/.test(r.out)) throw new Error(`start: ${r.out}`);
  // validators.js: the create path up to launching the runner: parse, validate, policy, plan.
  r = run(dir, ['--root', state, 'create', '--bundle', bundle, '--pid-file', path.join(tmp, 'pid'), 'c1'], {
    CH_RUN_OCI_RUNNER: '/bin/false',
  });
  if (!/runner/.test(r.out)) throw new Error(`create did not get as far as the runner: ${r.out}`);
  // The full command line (yargs); app.js's cache from the first run is kept.
  r = run(dir, ['--root', state, 'list']);
  if (r.status !== 0) throw new Error(`list failed: ${r.out}`);
  for (const f of EXPECTED) {
    if (!fs.existsSync(path.join(dir, f))) throw new Error(`no ${f} was written`);
  }
} catch (err) {
  console.error(`code-cache: ${err.message}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
