import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Migrates one template database per run; each test file's database is a copy of it.
    globalSetup: ['test/global-setup.ts'],
    // Most of a database test's time is PostgreSQL's, not the worker's: more workers than cores.
    maxWorkers: 3,
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
