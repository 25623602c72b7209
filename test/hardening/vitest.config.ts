import { defineConfig } from 'vitest/config';

// The hardening suite: quick by default; scripts/hardening --long sets
// CHROCI_HARDEN_LONG=1 for the full-size loops. Files run one at a time:
// each one already keeps both cores busy, and the crash and concurrency
// figures would be distorted by a neighbour's load.
export default defineConfig({
  test: {
    root: `${__dirname}/../..`,
    include: ['test/hardening/**/*.test.ts'],
    globalSetup: ['test/setup.ts'],
    setupFiles: ['test/yield.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    // As in the other suites: one retry, and scripts/test lists any pass on retry.
    retry: 1,
    pool: 'forks',
  },
});
