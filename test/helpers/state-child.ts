// A child process for the state tests: the things that need a second process
// (a writer racing readers, lock contention, a crash mid-write, another uid).
// Bundled by state-build.ts; prints one JSON line on stdout when it has a result.
import * as fs from 'node:fs';
import { StateStore } from '../../src/state/store';
import type { ContainerRecord } from '../../src/state/record';
import { resolveStateRoot } from '../../src/state/root';
import { deriveStatus } from '../../src/state/status';

const [mode, ...args] = process.argv.slice(2);

function recordFor(id: string, n: number, extra: Record<string, unknown> = {}): ContainerRecord {
  return {
    ociVersion: '1.0.2',
    id,
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: '2026-01-01T00:00:00Z',
    owner: 'root',
    annotations: {},
    n,
    ...extra,
  };
}

function out(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

async function main(): Promise<void> {
  switch (mode) {
    case 'root': {
      // args[0]: the --root flag or '-' for none
      try {
        out({ root: resolveStateRoot(args[0] === '-' ? undefined : args[0]) });
      } catch (err) {
        out({ error: (err as Error).message });
      }
      return;
    }
    case 'write-crash': {
      const [root, id] = args;
      const store = new StateStore(root, { beforeRename: () => process.kill(process.pid, 'SIGKILL') });
      store.write(id, recordFor(id, 2));
      return;
    }
    case 'writer': {
      // Records of very different sizes, each self-checking: pad.length === size.
      const [root, id, count] = args;
      const store = new StateStore(root);
      const n = Number(count);
      for (let i = 1; i <= n; i++) {
        const size = (i * 7919) % 150_000;
        store.write(id, recordFor(id, i, { size, pad: 'x'.repeat(size), done: i === n }));
      }
      return;
    }
    case 'counter': {
      const [root, id, count] = args;
      const store = new StateStore(root, { waitMs: 30_000 });
      for (let i = 0; i < Number(count); i++) {
        await store.withLock(id, () => {
          const rec = store.read(id);
          store.write(id, { ...rec, n: (rec.n as number) + 1 });
        });
      }
      return;
    }
    case 'hold-lock': {
      const [root, id] = args;
      const store = new StateStore(root);
      await store.withLock(id, async () => {
        out({ locked: true });
        await new Promise(() => setTimeout(() => undefined, 1e9));
      });
      return;
    }
    case 'exclusive': {
      // At time `at` (ms since the epoch), take the lock and hold it 30 ms;
      // another holder inside at the same time shows as an existing `inside`.
      const [root, id, at] = args;
      const store = new StateStore(root, { waitMs: 20_000 });
      while (Date.now() < Number(at)) await new Promise((resolve) => setTimeout(resolve, 1));
      let overlap = false;
      const inside = `${root}/inside`;
      await store.withLock(id, async () => {
        try {
          fs.writeFileSync(inside, String(process.pid), { flag: 'wx' });
        } catch {
          overlap = true;
        }
        await new Promise((resolve) => setTimeout(resolve, 30));
        if (!overlap) fs.unlinkSync(inside);
      });
      out({ overlap });
      return;
    }
    case 'hot': {
      // The `state` path: must not load proper-lockfile (which hooks signals when loaded).
      const [root, id] = args;
      const store = new StateStore(root);
      const status = deriveStatus(store.read(id), store.dir(id));
      const before = process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');
      await store.withLock(id, () => undefined);
      const after = process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');
      out({ status, before, after });
      return;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
