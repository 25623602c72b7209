// The engine suite: a private containerd and dockerd (test/engines/setup.ts)
// driving RUNTIME through containerd's runc shim (default dist/ch-run-oci;
// RUNTIME=runc and RUNTIME=crun are the control runs). Needs root and the
// packages of scripts/setup-clients. From the repository root:
//   npx vitest run --config test/engines/vitest.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: `${__dirname}/../..`,
    include: ['test/engines/**/*.test.ts'],
    globalSetup: ['test/engines/setup.ts'],
    setupFiles: ['test/yield.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // One daemon pair for every file; ctr's and Docker's files in parallel
    // (2 cores), the tests of a file in order.
    fileParallelism: true,
    maxWorkers: 2,
    // Real daemons on busy cores: one retry, reported as such by scripts/test.
    retry: 1,
    pool: 'forks',
  },
});
