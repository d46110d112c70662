import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Migrates one template database per run; each test file's database is a copy of it.
    globalSetup: ['test/global-setup.ts'],
    // One worker per core: the run is CPU-bound (workers and PostgreSQL share the 2 cores).
    maxWorkers: 2,
    // The files of a worker share its loaded modules: importing the sources, the AWS SDK and
    // the CDK anew for every file took a quarter of the run's CPU (README, "Quick start"). What a
    // file changes it undoes: env stubs and SDK mocks in afterEach, and the handlers' cached
    // pool and secret through resetContainer (test/functions/support.ts).
    isolate: false,
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
