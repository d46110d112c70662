/**
 * The full rebuild's bulk paths on a real database: a first build into empty tables loads
 * without indexes and builds them at the end; remaining sizes are staged and written by one
 * UPDATE; a symbol with more buys than a call's argument limit.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deferIndexesOfEmptyTables } from '../../shared/db/deferred-indexes.ts';
import { RemainingSizeStage } from '../../shared/db/remaining-stage.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { generateTrades } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertBotTrades, recordingLogger, resetTables, snapshotVersion } from '../support/fixtures.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await resetTables(db.pool);
});

/** Every index and constraint of the bulk tables, as the catalog defines them. */
async function indexDefinitions(): Promise<string[]> {
  const { rows } = await db.pool.query<{ def: string }>(
    `SELECT pg_get_indexdef(x.indexrelid) || COALESCE(' / ' || c.conname || ' ' || pg_get_constraintdef(c.oid), '') AS def
     FROM pg_index x LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
     WHERE x.indrelid IN ('fifo_allocations'::regclass, 'fifo_lots'::regclass)
     ORDER BY 1`,
  );
  return rows.map((r) => r.def);
}

const sample = (trades: number, seed: number) =>
  [...generateTrades({ trades, symbols: 3, seed, start: '2025-01-01T00:00:00Z' })].map((t) => ({
    ...t,
    order_id: `s${seed}-${t.order_id}`,
  }));

describe('a first build into empty tables', () => {
  it('loads without indexes and ends with exactly the indexes it started with', async () => {
    // Why: bulk-load mode drops and rebuilds indexes; a lost or altered index would slow or
    // break every later run and the bot's own queries.
    // Prepare
    const before = await indexDefinitions();
    await insertTrades(db.pool, sample(400, 1));
    const logger = recordingLogger();

    // Act
    const result = await runFullRebuild(db, { version: 1, logger });

    // Assess
    expect(logger.lines.map((l) => l.message)).toContain(
      'first build into empty tables: indexes are built after the load',
    );
    expect(await indexDefinitions()).toEqual(before);
    expect(result.allocations).toBeGreaterThan(0);
    // The rows loaded without indexes are what a rebuild with indexes computes: no drift.
    const validation = await runFullRebuild(db, { version: 1 });
    expect(validation.drift.rows).toBe(0);
  });

  it('gives the indexes back when it fails', async () => {
    // Why: the indexes are dropped inside the run's transaction; a failure must roll the
    // drop back with everything else.
    // Prepare
    const before = await indexDefinitions();
    await insertTrades(db.pool, sample(200, 2));
    await db.pool.query(`
      CREATE OR REPLACE FUNCTION test_fail_progress() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
      CREATE TRIGGER test_fail_progress BEFORE INSERT ON fifo_symbol_progress
        FOR EACH ROW EXECUTE FUNCTION test_fail_progress();`);

    // Act
    const run = runFullRebuild(db, { version: 1 });

    // Assess
    await expect(run).rejects.toThrow('injected failure');
    await db.pool.query('DROP TRIGGER test_fail_progress ON fifo_symbol_progress');
    expect(await indexDefinitions()).toEqual(before);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM fifo_allocations');
    expect(rows[0].n).toBe(0);
  });

  it('keeps the indexes when another version already has rows', async () => {
    // Why: dropping indexes under another version's rows would slow its readers for the
    // whole run; bulk-load mode is for empty tables only.
    // Prepare
    await insertTrades(db.pool, sample(200, 3));
    await runFullRebuild(db, { version: 1 });
    const logger = recordingLogger();

    // Act
    const result = await runFullRebuild(db, { version: 2, logger });

    // Assess
    const kept = logger.lines.find((l) => l.message === 'first build with indexes kept');
    expect(kept?.fields).toMatchObject({ reason: expect.stringContaining('already hold rows') });
    expect(result.drift.rows).toBe(0);
    expect((await snapshotVersion(db.pool, 2)).allocations).toEqual(
      (await snapshotVersion(db.pool, 1)).allocations,
    );
  });

  it('keeps the indexes, without waiting, when a reader holds the tables', { tags: 'server' }, async () => {
    // Why: a report reading fifo_allocations must not make the rebuild wait, nor be blocked
    // for the whole rebuild; the run goes on in the normal mode.
    // Prepare
    await insertTrades(db.pool, sample(200, 4));
    const reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    await reader.query('BEGIN');
    await reader.query('SELECT count(*) FROM fifo_allocations');
    const logger = recordingLogger();
    try {
      // Act
      const result = await runFullRebuild(db, { version: 1, logger });

      // Assess
      const kept = logger.lines.find((l) => l.message === 'first build with indexes kept');
      expect(kept?.fields).toMatchObject({ reason: expect.stringMatching(/lock/i) });
      expect(result.allocations).toBeGreaterThan(0);
    } finally {
      await reader.query('COMMIT');
      await reader.end();
    }
  });

  it('is refused inside the transaction when the role cannot drop the indexes', async () => {
    // Why: the job role does not own the tables; the attempt must leave the transaction
    // usable so the run can go on.
    // Prepare
    const role = `fifo_test_not_owner_${process.pid}`;
    await db.pool.query(`DROP ROLE IF EXISTS ${role}`);
    await db.pool.query(`CREATE ROLE ${role} NOLOGIN`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE ${role}`);

      // Act
      const outcome = await deferIndexesOfEmptyTables(client);

      // Assess
      expect(outcome).toMatchObject({ kept: expect.any(String) });
      await expect(client.query('SELECT 1')).resolves.toBeDefined();
    } finally {
      await client.query('ROLLBACK');
      client.release();
      await db.pool.query(`DROP ROLE IF EXISTS ${role}`);
    }
  });
});

describe('remaining sizes', () => {
  it('are written by one UPDATE, only where the float8 value differs', async () => {
    // Why: the full rebuild stages every buy's remaining size and must not rewrite rows
    // whose stored value is already right (that is the nightly case).
    // Prepare
    await insertBotTrades(db.pool, [
      {
        order_id: 'a',
        symbol: 'X-USD',
        side: 'buy',
        order_time: '2025-01-01T00:00:00Z',
        price: '1',
        size: '1',
      },
      {
        order_id: 'b',
        symbol: 'X-USD',
        side: 'buy',
        order_time: '2025-01-02T00:00:00Z',
        price: '1',
        size: '1',
      },
      {
        order_id: 'c',
        symbol: 'X-USD',
        side: 'buy',
        order_time: '2025-01-03T00:00:00Z',
        price: '1',
        size: '1',
      },
    ]);
    await db.pool.query(`UPDATE trade_records SET remaining_size = 0.1 WHERE order_id IN ('a', 'b')`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const stage = await RemainingSizeStage.open(client, db.supportsCopy);

      // Act
      await stage.add([
        { orderId: 'a', remaining: '0.1', buyTime: '2026-01-01T00:00:00.000000Z' },
        { orderId: 'b', remaining: '0.25', buyTime: '2026-01-02T00:00:00.000000Z' },
      ]);
      await stage.add([{ orderId: 'c', remaining: '0', buyTime: '2026-01-03T00:00:00.000000Z' }]);
      const written = await stage.apply();
      const again = await stage.apply();
      await client.query('COMMIT');

      // Assess
      expect(written).toBe(2);
      expect(again).toBe(0);
    } finally {
      client.release();
    }
    const { rows } = await db.pool.query(
      'SELECT order_id, remaining_size FROM trade_records ORDER BY order_id',
    );
    expect(rows).toEqual([
      { order_id: 'a', remaining_size: 0.1 },
      { order_id: 'b', remaining_size: 0.25 },
      { order_id: 'c', remaining_size: 0 },
    ]);
  });
});

describe('a symbol with 200,000 buys', () => {
  it('is rebuilt, with every buy mirrored', { timeout: 120_000 }, async () => {
    // Why: buffers were appended with push(...items), which overflows the stack past about
    // 100k items; one busy symbol crashed the rebuild.
    // Prepare
    await db.pool.query(`
      INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status)
      SELECT 'b' || i, 'BTC-USD', 'buy', timestamptz '2025-01-01' + i * interval '1 second', 100, 1, 0, 'filled'
      FROM generate_series(1, 200000) AS i
      UNION ALL
      SELECT 's' || i, 'BTC-USD', 'sell', timestamptz '2025-06-01' + i * interval '1 second', 110, 2, 0, 'filled'
      FROM generate_series(1, 1000) AS i`);

    // Act
    const result = await runFullRebuild(db, { version: 1 });

    // Assess
    expect(result.trades).toBe(201_000);
    expect(result.allocations).toBe(2_000);
    const { rows } = await db.pool.query(
      `SELECT count(*) FILTER (WHERE remaining_size = 0)::int AS closed,
              count(*) FILTER (WHERE remaining_size = 1)::int AS open
       FROM trade_records WHERE side = 'buy'`,
    );
    expect(rows[0]).toEqual({ closed: 2_000, open: 198_000 });
  });
});
