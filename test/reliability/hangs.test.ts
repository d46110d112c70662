/**
 * No hangs, and every failure recorded. A run
 * that fails mid-stream used to hand its COPY reader back to the pool inside an open
 * transaction, so the next run in the same process (a warm Lambda's retry) waited on BEGIN
 * until the function timed out; a terminated writer left the CLI at exit 13 and the run row
 * 'running'. Each case here is followed by a second run in the same process, which must finish.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../shared/db/pool.ts';
import { LOCK_NAMESPACE } from '../../shared/db/sql.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const TRADES = 60_000;

/** The backend that holds a version's lock: the run's writer. */
const WRITER = `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::bigint::oid
  AND objid = $2::bigint::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
/** The backend streaming the trades out: the run's reader. */
const READER = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND query LIKE 'COPY (%TO STDOUT'`;

describe('a full rebuild that fails mid-stream', { tags: 'server' }, () => {
  let db: TestDatabase;
  let admin: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase({ max: 2 });
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, "trigger", status)
       SELECT 'h' || lpad(i::text, 6, '0'), 'S' || (i % 50) || '-USD', CASE WHEN i % 3 = 2 THEN 'sell' ELSE 'buy' END,
              timestamptz '2025-01-01' + i * interval '1 minute', 100 + i % 17, CASE WHEN i % 3 = 2 THEN 1.5 ELSE 1 END,
              '{}', 'filled'
       FROM generate_series(1, $1) AS i`,
      [TRADES],
    );
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  /**
   * Runs a rebuild of `version` and, once its trades are streaming, keeps doing `sabotage`
   * until the run settles (a cancel only hits a statement in flight, so it is repeated).
   */
  async function sabotaged(
    target: Database,
    version: number,
    sabotage: ((version: number) => Promise<unknown>) | string,
  ) {
    let settled = false;
    let attack: Promise<void> | null = null;
    if (typeof sabotage === 'string') {
      // From the start: the server sends a COPY's rows faster than the client reads them, so by
      // the first rows the reader may be done. Its statement is caught while it still runs.
      const sql = sabotage;
      attack = (async () => {
        while (!settled) {
          const { rows } = await admin.query<{ pg_terminate_backend: boolean }>(sql);
          if (rows.some((r) => r.pg_terminate_backend)) break;
          await new Promise((done) => setTimeout(done, 2));
        }
      })();
    }
    const run = runFullRebuild(target, {
      version,
      flushRows: 500,
      onProgress: () => {
        if (typeof sabotage === 'string') return;
        attack ??= (async () => {
          while (!settled) {
            await sabotage(version);
            await new Promise((done) => setTimeout(done, 10));
          }
        })();
      },
    });
    const outcome = await run.then(
      (result) => ({ result, error: null }),
      (error: Error) => ({ result: null, error }),
    );
    settled = true;
    await attack;
    return outcome;
  }

  async function lastRun(version: number) {
    const { rows } = await admin.query(
      `SELECT status, error_message FROM fifo_computation_log WHERE allocation_version = $1 ORDER BY id DESC LIMIT 1`,
      [version],
    );
    return rows[0];
  }

  const cases: [string, number, ((version: number) => Promise<unknown>) | string][] = [
    [
      'cancel the writer',
      11,
      (v) => admin.query(`SELECT pg_cancel_backend(pid) FROM (${WRITER}) w`, [LOCK_NAMESPACE, v]),
    ],
    [
      'terminate the writer',
      12,
      (v) => admin.query(`SELECT pg_terminate_backend(pid) FROM (${WRITER}) w`, [LOCK_NAMESPACE, v]),
    ],
    ['terminate the reader', 13, `SELECT pg_terminate_backend(pid) FROM (${READER} AND state = 'active') r`],
  ];

  it.each(cases)(
    '%s: the run fails and is recorded, and the next run in the process completes',
    async (_, version, sabotage) => {
      // Why: a warm Lambda retry must not wait out its timeout on a connection left mid-COPY.
      // Prepare: the cases above

      // Act
      const first = await sabotaged(db, version, sabotage);
      const second = await runFullRebuild(db, { version });

      // Assess
      expect(first.error).not.toBeNull();
      const failed = await admin.query(
        `SELECT status, error_message FROM fifo_computation_log WHERE allocation_version = $1 ORDER BY id LIMIT 1`,
        [version],
      );
      expect(failed.rows[0]).toMatchObject({ status: 'failed', error_message: expect.any(String) });
      expect(failed.rows[0].error_message.length).toBeGreaterThan(0);
      expect(second.status).toBe('completed');
      expect(second.trades).toBe(TRADES);
      expect(await lastRun(version)).toMatchObject({ status: 'completed' });
    },
    60_000,
  );

  it('an exhausted pool: the run fails within the connect timeout, is recorded, and the next run completes', async () => {
    // Why: failRun used to ask a full pool for a third connection and wait forever.
    // Prepare: a pool of two, one of them held by someone else
    const small = await openDatabase({ connectionString: db.url, max: 2, connectTimeoutMs: 1_000 });
    const hog = await small.pool.connect();
    try {
      // Act
      const first = await runFullRebuild(small, { version: 14 }).then(
        () => null,
        (error: Error) => error,
      );
      hog.release();
      const second = await runFullRebuild(small, { version: 14 });

      // Assess
      expect(first?.message).toMatch(/timeout/i);
      const { rows } = await admin.query(
        `SELECT status, error_message FROM fifo_computation_log WHERE allocation_version = 14 ORDER BY id`,
      );
      expect(rows[0]).toMatchObject({ status: 'failed', error_message: expect.stringMatching(/timeout/i) });
      expect(second.status).toBe('completed');
    } finally {
      hog.release();
      await small.close();
    }
  }, 60_000);

  it('the CLI whose writer is terminated exits 1 with one line, never 13, and records the failure', async () => {
    // Why: a top-level await that never settled made node exit 13, with the run row left 'running'.
    // Prepare
    const child = new Promise<{ code: number; stderr: string }>((done) => {
      execFile(
        'node',
        // One process: the writer holds the version's lock (partitions: test/reliability/partitions.test.ts).
        ['bin/fifo.js', 'full', '--version', '15', '--partitions', '1'],
        { cwd: repo, timeout: 60_000, env: { ...process.env, DATABASE_URL: db.url } },
        (error, _stdout, stderr) =>
          done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stderr }),
      );
    });

    // Act: once its trades stream, terminate the backend that holds the lock.
    let terminated = 0;
    for (let i = 0; i < 3_000 && terminated === 0; i++) {
      const { rows } = await admin.query(READER);
      if (rows.length > 0) {
        const { rowCount } = await admin.query(`SELECT pg_terminate_backend(pid) FROM (${WRITER}) w`, [
          LOCK_NAMESPACE,
          15,
        ]);
        terminated = rowCount ?? 0;
      }
      await new Promise((done) => setTimeout(done, 10));
    }
    const { code, stderr } = await child;

    // Assess
    expect(terminated).toBe(1);
    expect(code).toBe(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).toMatch(/^fifo: /m);
    expect(await lastRun(15)).toMatchObject({ status: 'failed' });
  }, 90_000);
});
