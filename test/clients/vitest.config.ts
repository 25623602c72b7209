// The client suite: real buildah and podman driving RUNTIME (default
// dist/ch-run-oci; RUNTIME=crun is the control run). Needs root and a machine
// prepared by scripts/setup-clients. Run from the repository root:
//   npx vitest run --config test/clients/vitest.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: `${__dirname}/../..`,
    include: ['test/clients/**/*.test.ts'],
    globalSetup: ['test/clients/setup.ts'],
    setupFiles: ['test/yield.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Files run in parallel (one per client and user); tests in a file in order,
    // since they share containers and images.
    fileParallelism: true,
    // Real buildah/podman on 2 busy cores: a timing bound (e.g. "stopped within
    // 2 s") can miss once under load. One retry; vitest marks such a test as
    // retried in its report, so flakiness stays visible.
    retry: 1,
    pool: 'forks',
  },
});
