import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Migrates one template database per run; each test file's database is a copy of it.
    globalSetup: ['test/global-setup.ts'],
    // One worker per core: the run is CPU-bound (workers and PostgreSQL share the 2 cores), and
    // 3 workers took as long (6m08s-6m23s against 6m04s) with more contention for the tests
    // that time a run.
    maxWorkers: 2,
    tags: [
      {
        name: 'server',
        description:
          'needs a real PostgreSQL (TEST_DATABASE_URL): several sessions, roles or child processes',
        skip: !process.env.TEST_DATABASE_URL,
      },
    ],
    reporters: ['default', './test/support/server-skips.ts'],
  },
});
