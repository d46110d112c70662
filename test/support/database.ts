/**
 * A fresh database for each test file: on TEST_DATABASE_URL's server when set (CI sets it),
 * else an embedded in-memory PGlite. Each test database is created, migrated and dropped; on a
 * server, "migrated" means copied from the template that test/global-setup.ts migrates once.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { startEmbeddedPostgres } from '../../shared/db/embedded.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { type Database, openDatabase } from '../../shared/db/pool.ts';

export interface TestDatabase extends Database {
  /** Connection string of this test database (contains no password on the CI server). */
  readonly url: string;
  /** True on a real server: several concurrent sessions behave like production. */
  readonly isServer: boolean;
  drop(): Promise<void>;
}

export const serverUrl = process.env.TEST_DATABASE_URL;

/**
 * Tests that need several concurrent connections run only on a real server. In CI
 * (FIFO_REQUIRE_ALL_TESTS=1) a missing server is an error, never a silent skip.
 */
export const needsServer = !serverUrl;
if (needsServer && process.env.FIFO_REQUIRE_ALL_TESTS === '1') {
  throw new Error('FIFO_REQUIRE_ALL_TESTS=1 but TEST_DATABASE_URL is not set: every test must run');
}

/** Creates an empty database (no migrations). */
export async function createEmptyDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  if (serverUrl) return createServerDatabase(serverUrl, options);
  const embedded = await startEmbeddedPostgres();
  const db = await openDatabase({ connectionString: embedded.connectionString, max: 1 });
  return {
    ...db,
    url: embedded.connectionString,
    isServer: false,
    async drop() {
      await db.close();
      await embedded.stop();
    },
  };
}

/** Creates a database with fifo-ledger's schema applied. */
export async function createTestDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  const template = migratedTemplate();
  if (serverUrl && template) return createServerDatabase(serverUrl, options, template);
  const db = await createEmptyDatabase(options);
  const client = await db.pool.connect();
  try {
    await migrate(client);
  } finally {
    client.release();
  }
  return db;
}

/** The template test/global-setup.ts migrated for this run; undefined outside vitest or without it. */
function migratedTemplate(): string | undefined {
  try {
    return inject('fifoTemplateDatabase');
  } catch {
    return undefined;
  }
}

async function createServerDatabase(
  serverUrl: string,
  options: { max?: number },
  template?: string,
): Promise<TestDatabase> {
  const name = `fifo_test_${randomBytes(6).toString('hex')}`;
  await asAdmin(serverUrl, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ connectionString: url.toString(), max: options.max ?? 4 });
  return {
    ...db,
    url: url.toString(),
    isServer: true,
    async drop() {
      await db.close();
      await asAdmin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function asAdmin(serverUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
