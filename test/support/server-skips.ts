/**
 * A vitest reporter that says, in one line at the end of a run without TEST_DATABASE_URL, how
 * many tests were skipped for want of a real PostgreSQL: those tagged 'server' (see
 * vitest.config.ts). Every other test runs on the embedded database or needs none.
 */
import type { Reporter, TestModule } from 'vitest/node';

export const SERVER_TAG = 'server';

export default class ServerSkips implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (process.env.TEST_DATABASE_URL) return;
    let tests = 0;
    let files = 0;
    for (const module of testModules) {
      const skipped = [...module.children.allTests()].filter(
        (test) => test.result().state === 'skipped' && test.tags.includes(SERVER_TAG),
      ).length;
      tests += skipped;
      if (skipped > 0) files += 1;
    }
    if (tests === 0) return;
    process.stdout.write(
      `${tests} tests in ${files} test files skipped: TEST_DATABASE_URL is not set ` +
        `(they need a real PostgreSQL; see README "Quick start")\n`,
    );
  }
}
