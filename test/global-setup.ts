/**
 * Runs once per `vitest run`, before any test file:
 * - on a real server (TEST_DATABASE_URL) it migrates one template database, so each test file
 *   copies it (CREATE DATABASE ... TEMPLATE) instead of running every migration again; the
 *   template is dropped at the end of the run;
 * - it rebuilds the CLI bundle when a source is newer than it, as `npm ci` builds it: the tests
 *   start `bin/fifo.js` hundreds of times, and with a stale bundle each start transpiles the
 *   sources with tsx instead, several times slower. FIFO_CLI_SOURCES=1 still runs the sources;
 * - it bundles the job children the reliability tests start and kill (test/support/child-entry.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
// @ts-expect-error: a plain ES module without types (it must run before anything is built).
import { buildCli, DEFAULT_OUTDIR } from '../bin/build.mjs';
import { migrate } from '../shared/db/migrate.ts';
import { CHILD_BUNDLE_DIR } from './support/child-entry.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated template database of this run; absent without a server. */
    fifoTemplateDatabase: string | undefined;
  }
}

async function admin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The test bin/fifo.js makes before it starts the bundle: built after every source it holds. */
function cliBundleIsCurrent(): boolean {
  try {
    const manifest = JSON.parse(readFileSync(`${DEFAULT_OUTDIR}/manifest.json`, 'utf8')) as {
      built_at_ms: number;
      inputs: string[];
    };
    return manifest.inputs.every((input) => statSync(`${REPO}/${input}`).mtimeMs <= manifest.built_at_ms);
  } catch {
    return false;
  }
}

async function buildStaleCli(): Promise<void> {
  if (process.env.FIFO_CLI_SOURCES === '1' || cliBundleIsCurrent()) return;
  try {
    await import('esbuild');
  } catch {
    return; // an install without devDependencies: the CLI runs from its sources
  }
  try {
    await buildCli();
  } catch (error) {
    // Another run building at the same moment can win the final rename: the CLI still runs,
    // from that build or from its sources.
    await rm(`${DEFAULT_OUTDIR}.tmp-${process.pid}`, { recursive: true, force: true });
    console.warn(`test setup: the CLI bundle was not rebuilt (${(error as Error).message})`);
  }
}

/** The job children, one bundle each; without esbuild (or on error) they run from their sources. */
async function bundleJobChildren(): Promise<void> {
  const temporary = `${CHILD_BUNDLE_DIR}.tmp-${process.pid}`;
  try {
    const { build } = await import('esbuild');
    await build({
      entryPoints: ['run-job.ts', 'run-partition.ts'].map((f) =>
        fileURLToPath(new URL(`./support/${f}`, import.meta.url)),
      ),
      outdir: temporary,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    // Swapped in whole, so a run reading the bundles never sees half of them.
    await mkdir(CHILD_BUNDLE_DIR, { recursive: true });
    await rm(CHILD_BUNDLE_DIR, { recursive: true, force: true });
    await rename(temporary, CHILD_BUNDLE_DIR);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    await rm(CHILD_BUNDLE_DIR, { recursive: true, force: true });
    console.warn(`test setup: the job children run from their sources (${(error as Error).message})`);
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  await buildStaleCli();
  await bundleJobChildren();
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    project.provide('fifoTemplateDatabase', undefined);
    return undefined;
  }
  // Unique per run: several runs may share the server, and a template must have no other session.
  const name = `fifo_test_template_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await admin(url.toString(), (client) => migrate(client));
  project.provide('fifoTemplateDatabase', name);
  return async () => {
    await admin(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
}
