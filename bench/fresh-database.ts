/** A database of its own for one benchmark step: created and migrated, dropped afterwards. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../shared/db/migrate.ts';

/**
 * Runs `work` against a new, migrated database on `serverUrl` named `<prefix>_<random>`, so
 * two benchmarks (or a benchmark and its test) on one server never drop each other's data.
 */
export async function withFreshDatabase<T>(
  serverUrl: string,
  prefix: string,
  work: (url: string, pool: pg.Pool) => Promise<T>,
): Promise<T> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = openBenchPool(url.toString());
  try {
    const client = await pool.connect();
    await migrate(client).finally(() => client.release());
    return await work(url.toString(), pool);
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/**
 * A small pool on a bench database. An idle connection that the server ends (DROP DATABASE
 * ... WITH (FORCE) at the end of a step) reports it here; unheard, the error would end the
 * benchmark.
 */
export function openBenchPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 2 });
  pool.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') process.stderr.write(`idle connection: ${error.message}\n`);
  });
  return pool;
}
