import { defineConfig } from 'vitest/config';

// Two projects share one run (and one pool of 2 workers, the machine has 2 cores):
//  - unit:        tests/unit/**, no external services, quick timeouts;
//  - integration: every other tests/**/*.test.ts. Its global setup resolves a real Kafka and
//                 Redis (env -> Docker/testcontainers -> scripts/stack.sh) before any file runs;
//                 tests get them from tests/support/services.ts.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          testTimeout: 15_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/unit/**', '**/node_modules/**'],
          globalSetup: ['tests/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
