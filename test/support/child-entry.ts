/**
 * How a test starts a child Node.js process that runs a job (run-job.ts, run-partition.ts):
 * from the bundle that the run's global setup (test/global-setup.ts) built of that file, else
 * from its TypeScript source with the tsx loader. The crash and concurrency tests start about a
 * hundred children; from the sources each spends about a second of CPU transpiling shared/.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the global setup puts the bundles: beside node_modules, so packages resolve from it. */
export const CHILD_BUNDLE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/fifo-test-children', import.meta.url),
);

/** The bundle of a child entry point (a .ts file under test/support/). */
export const childBundleOf = (source: string): string =>
  join(CHILD_BUNDLE_DIR, basename(source).replace(/\.ts$/, '.mjs'));

/** The node arguments that run `source`: its bundle when one was built, else the source with tsx. */
export function childEntry(source: string): string[] {
  const bundle = childBundleOf(source);
  return existsSync(bundle) ? [bundle] : ['--import', 'tsx', source];
}
