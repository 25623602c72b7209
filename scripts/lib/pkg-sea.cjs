// Runs the @yao-pkg/pkg CLI (args as for `pkg`) and forwards package.json
// "pkg.seaConfig" to the enhanced SEA pipeline. pkg 6.23 accepts that key
// but never passes it on, so useCodeCache would silently do nothing.
// Measured: useCodeCache saves ~3 ms of ~55 ms per start (it caches pkg's own
// 400 kB bootstrap). useSnapshot is refused by the enhanced mode.
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const lib = path.join(root, 'node_modules', '@yao-pkg', 'pkg', 'lib-es5');
const seaConfig = require(path.join(root, 'package.json')).pkg?.seaConfig;

const sea = require(path.join(lib, 'sea.js'));
if (typeof sea.seaEnhanced !== 'function') {
  // A pkg upgrade moved the internals: fail instead of dropping the setting.
  console.error('pkg-sea: @yao-pkg/pkg has no seaEnhanced export; update scripts/lib/pkg-sea.cjs');
  process.exit(1);
}
const original = sea.seaEnhanced;
sea.seaEnhanced = (entry, opts) => original(entry, { ...opts, seaConfig: opts.seaConfig ?? seaConfig });

require(path.join(lib, 'index.js'))
  .exec(process.argv.slice(2))
  .catch((err) => {
    if (!err.wasReported) console.error(err);
    process.exit(2);
  });
