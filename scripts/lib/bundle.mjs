// Bundles the program into dist/bundle/ for the single executable (esbuild):
//   main.js   src/boot.ts: the entry point; loads the rest with V8 code caches
//   app.js    src/main.ts and everything it imports, except:
//   lazy/yargs.js, lazy/validators.js: two large leaves only some verbs need
//             (the full command line; create/exec's schema validation)
// V8 parses all of a script on every start, so every byte in app.js costs
// every invocation (measured: ~9 ms for the 337 kB single bundle). Both
// leaves hold no state shared with our modules, so loading them as separate
// scripts changes nothing else. Code caches: scripts/lib/code-cache.mjs.
//
// Usage: node scripts/lib/bundle.mjs OUTDIR
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'bundle'));

// import specifier (as written in src/) → script under OUTDIR/lazy/, and its entry point.
const LAZY = [
  { filter: /^yargs\/yargs$/, file: 'yargs.js', entry: 'node_modules/yargs/yargs' },
  { filter: /^\.\/generated\/validators(\.js)?$/, file: 'validators.js', entry: 'src/spec/generated/validators.js' },
];

// proper-lockfile reads and writes through graceful-fs, whose load patches
// fs (and loads fs's streams): ~3-8 ms on every locked verb (create, start,
// delete), measured. Its EMFILE retry queue is of no use to a process that
// opens a handful of files, so the plain fs module stands in for it.
const ALIAS = { 'graceful-fs': 'node:fs' };

// Node built-in modules that cost a start to load (measured with callgrind:
// node:crypto initialises OpenSSL and seeds its CSPRNG, ~10 M instructions;
// node:child_process pulls in net and streams) but that the hot verbs
// (state, start, kill, delete) rarely or never use. Their imports become an
// object of getters that load the module on the first read of any of them:
// esbuild's interop copies the getters, and `import * as x` / `import { f }`
// read them only where they are used. The names are the exports of this
// Node, the one the executable embeds (scripts/build runs us with it).
const LAZY_BUILTINS = ['node:crypto', 'node:child_process'];
const require = createRequire(import.meta.url);
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    const filter = new RegExp(`^(${LAZY_BUILTINS.join('|')})$`);
    // The stand-in's own require is the real module.
    build.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let m;
const get = () => (m ??= require(${JSON.stringify(args.path)}));
for (const k of ${JSON.stringify(Object.keys(require(args.path)))}) {
  Object.defineProperty(exports, k, { enumerable: true, get: () => get()[k] });
}`,
      loader: 'js',
    }));
  },
};

// `import * as fs from 'node:fs'` in a CommonJS bundle becomes esbuild's
// interop copy of the module (a getter defined for each of its ~100 exports)
// in every importing module: node:fs 30 times, node:path 24, on every start
// (~10 % of a hot verb's JavaScript, measured with --cpu-prof). These
// modules are instead imported through one ES module per built-in that
// exports its names as plain bindings, read once; esbuild then calls
// `readFileSync` directly and drops the bindings nobody uses. Only our
// sources' `import` statements are redirected; a dependency's require()
// gets the module itself.
const FACADES = ['node:fs', 'node:path', 'node:os'];
const facades = {
  name: 'builtin-facades',
  setup(build) {
    const filter = new RegExp(`^(${FACADES.join('|')})$`);
    build.onResolve({ filter }, (args) =>
      args.kind === 'import-statement' && args.namespace === 'file' && !args.importer.includes('/node_modules/')
        ? { path: args.path, namespace: 'builtin-facade' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin-facade' }, (args) => {
      const names = Object.keys(require(args.path)).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
      // A pure call per name: an unused binding is dropped, a used one is read once.
      const lines = names.map((k) => `export const ${k} = /* @__PURE__ */ get(${JSON.stringify(k)});`);
      return {
        contents: `const m = require(${JSON.stringify(args.path)});\nconst get = (k) => m[k];\n${lines.join('\n')}\nexport default m;\n`,
        loader: 'js',
        resolveDir: root,
      };
    });
  },
};

// The commit --version shows (src/version.ts), given by scripts/build.
const commit = process.env.CH_RUN_OCI_COMMIT || 'unknown';
if (!/^[0-9a-f]{7,40}(-dirty)?$|^unknown$/.test(commit)) throw new Error(`bundle: bad CH_RUN_OCI_COMMIT ${commit}`);

const common = {
  define: { CH_RUN_OCI_COMMIT: JSON.stringify(commit) },
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

// An import of a lazy leaf becomes a call of boot.ts's loader (it runs the
// leaf's script with its code cache).
const seen = new Set();
const lazyPlugin = {
  name: 'lazy-leaves',
  setup(build) {
    for (const l of LAZY) {
      build.onResolve({ filter: l.filter }, () => {
        seen.add(l.file);
        return { path: l.file, namespace: 'lazy-leaf' };
      });
    }
    build.onLoad({ filter: /.*/, namespace: 'lazy-leaf' }, (args) => ({
      contents: `module.exports = globalThis[Symbol.for('ch-run-oci.load')](${JSON.stringify(`lazy/${args.path}`)});`,
      loader: 'js',
    }));
  },
};

await esbuild.build({ ...common, entryPoints: ['src/boot.ts'], outfile: path.join(outdir, 'main.js') });
await esbuild.build({
  ...common,
  alias: ALIAS,
  entryPoints: ['src/main.ts'],
  outfile: path.join(outdir, 'app.js'),
  plugins: [lazyPlugin, assertShim, lazyBuiltins, facades],
});
for (const l of LAZY) {
  // A leaf nobody imports any more would be carried for nothing; one that moved would fail at run time.
  if (!seen.has(l.file)) throw new Error(`bundle: nothing imports ${l.entry} any more; update scripts/lib/bundle.mjs`);
  await esbuild.build({ ...common, entryPoints: [l.entry], outfile: path.join(outdir, 'lazy', l.file) });
}
