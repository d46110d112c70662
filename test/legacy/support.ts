/**
 * Helpers for the adoption tests: a database the real CLI can connect to while the test holds
 * its own pool, fingerprints of the catalog and the data, the exact bytes of the legacy
 * columns, and the CLI as a child process.
 */
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type pg from 'pg';
import { openDatabase } from '../../shared/db/pool.ts';
import { createEmptyDatabase, serverUrl, type TestDatabase } from '../support/database.ts';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * An empty database that accepts several connections: the test's pool and the CLI's. On the
 * server it is createEmptyDatabase(); embedded, a PGlite whose socket server takes a few
 * connections (queries are queued, transactions kept together), used one at a time here.
 */
export async function createSharedDatabase(): Promise<TestDatabase> {
  if (serverUrl) return createEmptyDatabase();
  const pglite = await PGlite.create();
  const server = new PGLiteSocketServer({ db: pglite, port: 0, host: '127.0.0.1', maxConnections: 8 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const db = await openDatabase({ connectionString: url, max: 1 });
  return {
    ...db,
    url,
    isServer: false,
    async drop() {
      await db.close();
      await server.stop();
      await pglite.close();
    },
  };
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/fifo.js ...args` against `url`; the exit code is data, not an exception. */
export function runCli(url: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'FIFO_ALLOCATION_VERSION' && !k.startsWith('REPORT_')),
  );
  return new Promise((done) => {
    execFile(
      'node',
      ['bin/fifo.js', ...args],
      { cwd: repo, timeout: 120_000, env: { ...base, DATABASE_URL: url, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a --json command that must succeed and returns its object. */
export async function cliJson<T = Record<string, unknown>>(url: string, args: string[]): Promise<T> {
  const run = await runCli(url, args);
  if (run.code !== 0) {
    throw new Error(`fifo ${args.join(' ')} exited ${run.code}\n${run.stderr}\n${run.stdout}`);
  }
  return JSON.parse(run.stdout) as T;
}

type Queryable = pg.Pool | pg.ClientBase;

/**
 * Every user-visible catalog entry of the database's own schemas (relations, columns,
 * constraints, indexes, triggers, views, functions), one md5. Roles are cluster-wide and
 * other test files create them concurrently: left out.
 */
export async function catalogFingerprint(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ fp: string }>(
    `WITH ns AS (SELECT oid FROM pg_namespace
                 WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%'
                   AND nspname NOT LIKE 'pg_temp%'),
     entries AS (
       SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || c.relnatts AS x
       FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns)
       UNION ALL
       SELECT 'att ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
              || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE c.relnamespace IN (SELECT oid FROM ns) AND a.attnum > 0 AND NOT a.attisdropped
       UNION ALL
       SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
       WHERE connamespace IN (SELECT oid FROM ns)
       UNION ALL
       SELECT 'idx ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relnamespace IN (SELECT oid FROM ns)
       UNION ALL
       SELECT 'trg ' || pg_get_triggerdef(oid) || ' ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
       UNION ALL
       SELECT 'view ' || c.relname || ' ' || pg_get_viewdef(c.oid) FROM pg_class c
       WHERE c.relkind IN ('v', 'm') AND c.relnamespace IN (SELECT oid FROM ns)
       UNION ALL
       SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' ' || p.prosecdef
       FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM ns)
     )
     SELECT md5(string_agg(x, E'\\n' ORDER BY x)) AS fp FROM entries`,
  );
  return rows[0]!.fp;
}

/** Every row of every table of the public schema, one md5 per table (float8 at full precision). */
export async function dataFingerprint(db: Queryable): Promise<Record<string, string>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    // Identifier from the catalog, quoted.
    const { rows } = await db.query<{ fp: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) || ':' || count(*) AS fp
       FROM "${name.replaceAll('"', '""')}" t`,
    );
    out[name] = rows[0]!.fp;
  }
  return out;
}

/** The legacy columns of trade_records: the exact bytes of each float8 (float8send) and its text. */
export async function legacyBytes(
  db: pg.ClientBase,
  table = 'trade_records',
): Promise<Record<string, unknown>[]> {
  await db.query('BEGIN');
  try {
    await db.query('SET LOCAL extra_float_digits = 3');
    const floats = [
      'realized_profit',
      'pnl_usd',
      'cost_basis_usd',
      'sale_proceeds_usd',
      'net_sale_proceeds_usd',
    ];
    const { rows } = await db.query(
      `SELECT order_id, parent_id,
              ${floats.map((c) => `encode(float8send(${c}), 'hex') AS ${c}_bytes, ${c}::text AS ${c}_text`).join(', ')}
       FROM ${table} ORDER BY order_id`,
    );
    return rows;
  } finally {
    await db.query('COMMIT');
  }
}

/** Runs `work` with a client of the pool, released afterwards. */
export async function withClient<T>(db: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

export async function pendingChanges(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM fifo_trade_changes');
  return Number(rows[0]!.n);
}

export const VIEWS = [
  'v_allocation_health',
  'v_unmatched_sells',
  'v_pnl_by_symbol',
  'v_allocation_discrepancies',
] as const;
