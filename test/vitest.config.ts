import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    globalSetup: ['test/setup.ts'],
    setupFiles: ['test/yield.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share the state roots and the test user; files run in parallel, tests in a file in order.
    fileParallelism: true,
    // Real processes on 2 busy cores. A test that fails once is run again; a
    // pass on retry is still listed by scripts/test (RETRIED) with its first error.
    retry: 1,
    pool: 'forks',
  },
});
