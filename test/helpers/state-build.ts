// Bundles state-child.ts into one plain JS file that any uid can run with node.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleTs } from './repo';

let built: string | undefined;

export function stateChild(): string {
  if (built) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-child-'));
  fs.chmodSync(dir, 0o755); // readable by the uid-65534 runs
  built = bundleTs(path.join(__dirname, 'state-child.ts'), path.join(dir, 'state-child.js'));
  return built;
}

/** Removes the bundle (call from afterAll). */
export function removeStateChild(): void {
  if (built) fs.rmSync(path.dirname(built), { recursive: true, force: true });
  built = undefined;
}
