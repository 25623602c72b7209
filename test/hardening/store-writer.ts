// Test driver (bundled with esbuild): node store-writer.js ROOT ID MS
// Rewrites the record of container ID for MS milliseconds with records of
// very different sizes (so a torn write would show), then prints how many.
import { StateStore } from '../../src/state/store';

const [root, id, ms] = process.argv.slice(2);
const store = new StateStore(root);
const until = Date.now() + Number(ms);
let n = 0;
while (Date.now() < until) {
  const big = n % 3 === 0 ? 'x'.repeat(64 * 1024) : '';
  store.write(id, { ociVersion: '1.0.2', id, bundle: '/b', rootfs: '/b/rootfs', created: String(n), owner: 'root', annotations: { big } });
  n++;
}
process.stdout.write(`${n}\n`);
