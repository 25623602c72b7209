// Bundles src/main.ts into dist/bundle/ for the single executable (esbuild).
//
// Two large leaves are kept out of main.js, in dist/bundle/lazy/: yargs (only
// the full command line needs it; the hot verbs' fast path never does) and
// the generated schema validators (only create/exec need them). V8 parses all
// of main.js on every start, so each byte there costs every invocation
// (measured: ~9 ms for the 337 kB single bundle). Both leaves hold no state
// shared with our modules, so loading them as separate files changes nothing.
//
// Usage: node scripts/lib/bundle.mjs OUTDIR
import * as esbuild from 'esbuild';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'bundle'));

// import specifier (as written in src/) → file under OUTDIR/lazy/, and its entry point.
const LAZY = [
  { filter: /^yargs\/yargs$/, file: 'yargs.js', entry: 'node_modules/yargs/yargs' },
  { filter: /^\.\/generated\/validators(\.js)?$/, file: 'validators.js', entry: 'src/spec/generated/validators.js' },
];

// proper-lockfile reads and writes through graceful-fs, whose load patches
// fs (and loads fs's streams): ~3-8 ms on every locked verb (create, start,
// delete), measured. Its EMFILE retry queue is of no use to a process that
// opens a handful of files, so the plain fs module stands in for it.
const ALIAS = { 'graceful-fs': 'node:fs' };

const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
};

// node:assert for signal-exit (proper-lockfile's exit hook) only: see shim-assert.cjs.
const assertShim = {
  name: 'signal-exit-assert',
  setup(build) {
    build.onResolve({ filter: /^assert$/ }, (args) =>
      /node_modules\/signal-exit\//.test(args.importer) ? { path: path.join(root, 'scripts/lib/shim-assert.cjs') } : undefined,
    );
  },
};

const seen = new Set();
const lazyPlugin = {
  name: 'lazy-leaves',
  setup(build) {
    for (const l of LAZY) {
      build.onResolve({ filter: l.filter }, () => {
        seen.add(l.file);
        // Relative to main.js at run time (pkg keeps dist/bundle's layout under /snapshot).
        return { path: `./lazy/${l.file}`, external: true };
      });
    }
  },
};

await esbuild.build({ ...common, alias: ALIAS, entryPoints: ['src/main.ts'], outfile: path.join(outdir, 'main.js'), plugins: [lazyPlugin, assertShim] });
for (const l of LAZY) {
  // A leaf nobody imports any more would be carried for nothing; one that moved would fail at run time.
  if (!seen.has(l.file)) throw new Error(`bundle: nothing imports ${l.entry} any more; update scripts/lib/bundle.mjs`);
  await esbuild.build({ ...common, entryPoints: [l.entry], outfile: path.join(outdir, 'lazy', l.file) });
}
