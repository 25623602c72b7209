// Packs a script and its assets into one executable: a Node single executable
// application (SEA), Node's own mechanism, done the way Node documents it:
//   1. a stripped copy of the Node running this script (its symbols are 18 MB
//      of the 125 MB and nothing at run time reads them),
//   2. `node --experimental-sea-config` writes the blob (MAIN, its V8 code
//      cache, the assets, read at run time with node:sea's getAsset),
//   3. postject injects the blob and flips Node's SEA fuse.
// Everything is local: no download, nothing outside node_modules and $PATH's
// `strip`. The same function packs scripts/bench's empty program, so the
// bench's packaged floor is exactly ours.
//
// Usage: node scripts/lib/sea.mjs OUT MAIN [NAME=FILE...]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

// Node's SEA fuse (the string its binary carries, documented by Node).
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const [out, main, ...assetArgs] = process.argv.slice(2);
if (!out || !main) {
  console.error('usage: sea.mjs OUT MAIN [NAME=FILE...]');
  process.exit(2);
}
const assets = {};
for (const a of assetArgs) {
  const eq = a.indexOf('=');
  if (eq <= 0) throw new Error(`sea: bad asset ${a} (NAME=FILE)`);
  assets[a.slice(0, eq)] = path.resolve(a.slice(eq + 1));
}

const require = createRequire(import.meta.url);
const { inject } = require('postject');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`sea: ${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ch-run-oci-sea-'));
try {
  const blob = path.join(tmp, 'sea.blob');
  const config = path.join(tmp, 'sea-config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      main: path.resolve(main),
      output: blob,
      disableExperimentalSEAWarning: true,
      // Caches MAIN's bytecode; the larger scripts carry their own (src/boot.ts).
      useCodeCache: true,
      // A startup snapshot was measured no faster (../README.md, Speed).
      useSnapshot: false,
      // NODE_OPTIONS is the caller's Node's, not ours: by default a SEA obeys
      // it, so `NODE_OPTIONS=--require x.js` ran x.js inside the runtime and
      // --inspect opened a debugger port on it (as root under a root daemon).
      execArgv: [],
      execArgvExtension: 'none',
      assets,
    }),
  );
  run(process.execPath, ['--experimental-sea-config', config]);
  const exe = path.join(tmp, 'exe');
  fs.copyFileSync(process.execPath, exe);
  fs.chmodSync(exe, 0o755);
  run('strip', ['--strip-all', exe]);
  // postject warns about the section-name table strip removed; harmless.
  const warn = console.warn;
  console.warn = (...a) => {
    if (!/Can't find string offset for section name/.test(String(a[0]))) warn(...a);
  };
  try {
    await inject(exe, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: FUSE });
  } finally {
    console.warn = warn;
  }
  fs.copyFileSync(exe, path.resolve(out));
  fs.chmodSync(path.resolve(out), 0o755);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
