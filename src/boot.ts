// The executable's entry point (dist/bundle/main.js, the SEA's main script):
// loads the program (app.js, built from main.ts) and its lazily loaded parts
// (lazy/*.js) with the V8 code cache made for each at build time
// (scripts/lib/code-cache.mjs), so
// that a start compiles almost nothing: every verb is a fresh process, and
// parsing and compiling ~100-350 kB of JavaScript each time costs more than
// most verbs' own work. A missing or rejected cache (another V8) only means
// compiling as usual. Inside the executable the scripts and caches are SEA
// assets named bundle/<path under dist/bundle> (scripts/build); in a
// development tree they are the files of dist/bundle.
//
// Training (build time, outside the executable only): with
// CH_RUN_OCI_CODE_CACHE_OUT=DIR the caches of the scripts this process ran
// are written to DIR at exit (existing files are kept), so they hold the
// functions that actually ran, not only the top level.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sea from 'node:sea';
import * as vm from 'node:vm';
import { writeStdout } from './stdout';
import { versionText } from './version';

const LOADER = Symbol.for('ch-run-oci.load');
const TRAIN_ENV = 'CH_RUN_OCI_CODE_CACHE_OUT';
/** The build's smoke test sets this: a cache V8 rejects is reported on stderr. */
const CHECK_ENV = 'CH_RUN_OCI_CODE_CACHE_CHECK';

const packaged = sea.isSea();
const trainDir = packaged ? undefined : process.env[TRAIN_ENV];
const ran: [string, vm.Script][] = [];

// What Node wraps a CommonJS module in; a code cache fits only this exact text.
const wrap = (source: string): string => `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;

/** Runs dist/bundle/NAME as a CommonJS module and returns its exports. */
function load(name: string): unknown {
  const file = path.join(__dirname, name);
  const source = packaged ? sea.getAsset(`bundle/${name}`, 'utf8') : fs.readFileSync(file, 'utf8');
  let cachedData: Buffer | undefined;
  if (!trainDir) {
    try {
      // getRawAsset: the blob's own bytes, no copy (V8 only reads them).
      cachedData = packaged ? Buffer.from(sea.getRawAsset(`bundle/${name}.cache`) as ArrayBuffer) : fs.readFileSync(`${file}.cache`);
    } catch {
      // Built without a cache: compile as usual.
    }
  }
  const script = new vm.Script(wrap(source), { filename: file, cachedData });
  if (cachedData && script.cachedDataRejected && process.env[CHECK_ENV]) {
    process.stderr.write(`ch-run-oci: code cache of ${name} rejected\n`);
  }
  if (trainDir) ran.push([name, script]);
  const m = { exports: {} as unknown, filename: file, id: file };
  const wrapper = script.runInThisContext() as (...a: unknown[]) => void;
  wrapper.call(m.exports, m.exports, require, m, file, path.dirname(file));
  return m.exports;
}

if (trainDir) {
  process.on('exit', () => {
    for (const [name, script] of ran) {
      const out = path.join(trainDir, `${name}.cache`);
      if (fs.existsSync(out)) continue;
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, script.createCachedData());
    }
  });
}

(globalThis as Record<symbol, unknown>)[LOADER] = load;
// `--version` alone (what podman and dockerd run to identify the runtime)
// needs none of the program: the same text yargs prints (cli/parse.ts),
// without loading it. Any other command line goes to the program.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) writeStdout(`${versionText()}\n`);
else load('app.js');
