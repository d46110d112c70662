/** The jobs' safety promises on a real database: drift, locks, bad rows, failures, --since. */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_NAMESPACE } from '../../shared/db/sql.ts';
import { readHealth, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
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

const basic = [
  {
    order_id: 'b1',
    symbol: 'BTC-USD',
    side: 'buy',
    order_time: '2026-01-01T00:00:00Z',
    price: '40000',
    size: '1',
    fee: '4',
  },
  {
    order_id: 'b2',
    symbol: 'BTC-USD',
    side: 'buy',
    order_time: '2026-01-02T00:00:00Z',
    price: '41000',
    size: '1',
    fee: '4',
  },
  {
    order_id: 's1',
    symbol: 'BTC-USD',
    side: 'sell',
    order_time: '2026-01-03T00:00:00Z',
    price: '42000',
    size: '1.5',
    fee: '6',
  },
];

describe('drift', () => {
  it('is reported by a dry run and repaired by a full rebuild', async () => {
    // Why: the nightly rebuild must find what change capture missed (here: a trigger disabled).
    // Prepare
    await insertBotTrades(db.pool, basic);
    await runFullRebuild(db, { version: 1 });
    await db.pool.query('ALTER TABLE trade_records DISABLE TRIGGER fifo_capture_update');
    await db.pool.query(`UPDATE trade_records SET price = 43000 WHERE order_id = 's1'`);
    await db.pool.query('ALTER TABLE trade_records ENABLE TRIGGER fifo_capture_update');

    // Act
    const dryRun = await runFullRebuild(db, { version: 1, dryRun: true });
    const afterDryRun = await snapshotVersion(db.pool, 1);
    const repair = await runFullRebuild(db, { version: 1 });
    const check = await runFullRebuild(db, { version: 1, dryRun: true });

    // Assess: both slices of s1 changed; pnl moved by 1000 x 1.5 = 1500 USD.
    expect(dryRun.drift).toMatchObject({ rowsChanged: 2, rowsAdded: 0, rowsRemoved: 0, usd: '1500' });
    expect(afterDryRun.allocations.map((a) => a.sell_price)).toEqual(['42000', '42000']);
    expect(repair.drift).toMatchObject({ rowsChanged: 2, usd: '1500' });
    expect(check.drift.rows).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT status, drift_rows_changed, drift_usd::text, dry_run FROM fifo_computation_log ORDER BY id`,
    );
    expect(rows.filter((r) => !r.dry_run).map((r) => [r.status, r.drift_rows_changed, r.drift_usd])).toEqual([
      ['completed', 0, '0'],
      ['completed', 2, '1500'],
    ]);
  });
});

describe('a trade moved to another symbol', () => {
  it('is repaired by a full rebuild even when its new symbol comes first', async () => {
    // Why: a sell's allocations are unique across symbols, so the old ones must go first.
    // Prepare: x1 sells before any buy, so it is one unmatched row (x1, NULL) in either symbol.
    await insertBotTrades(db.pool, [
      ...basic,
      {
        order_id: 'x1',
        symbol: 'BTC-USD',
        side: 'sell',
        order_time: '2025-12-31T00:00:00Z',
        price: '10',
        size: '1',
      },
    ]);
    await runFullRebuild(db, { version: 1 });
    await db.pool.query('ALTER TABLE trade_records DISABLE TRIGGER fifo_capture_update');
    await db.pool.query(`UPDATE trade_records SET symbol = 'AAA-USD' WHERE order_id = 'x1'`);
    await db.pool.query('ALTER TABLE trade_records ENABLE TRIGGER fifo_capture_update');

    // Act: writing after every symbol, AAA-USD's new row is written before BTC-USD is read.
    const repair = await runFullRebuild(db, { version: 1, flushRows: 1 });
    await runFullRebuild(db, { version: 2 });

    // Assess
    expect(repair.drift).toMatchObject({ rowsAdded: 1, rowsRemoved: 1, rowsChanged: 0 });
    expect(await snapshotVersion(db.pool, 1)).toEqual(await snapshotVersion(db.pool, 2));
  });
});

describe('the advisory lock', () => {
  it('skips a run while another run holds the lock, and logs it (needs a server: two sessions)', {
    tags: 'server',
  }, async () => {
    // Why: schedules deliver at least once and runs may overlap; the second must exit cleanly.
    // Prepare
    await insertBotTrades(db.pool, basic);
    const holder = await db.pool.connect();
    await holder.query('SELECT pg_advisory_lock($1, 1)', [LOCK_NAMESPACE]);

    // Act
    const full = await runFullRebuild(db, { version: 1 });
    const incremental = await runIncremental(db, { version: 1 });
    const otherVersion = await runFullRebuild(db, { version: 2 });
    await holder.query('SELECT pg_advisory_unlock($1, 1)', [LOCK_NAMESPACE]);
    holder.release();

    // Assess
    expect(full.status).toBe('skipped');
    expect(incremental.status).toBe('skipped');
    expect(otherVersion.status).toBe('completed');
    const { rows } = await db.pool.query(
      `SELECT computation_mode, status FROM fifo_computation_log WHERE allocation_version = 1 ORDER BY id`,
    );
    expect(rows).toEqual([
      { computation_mode: 'full', status: 'skipped' },
      { computation_mode: 'incremental', status: 'skipped' },
    ]);
  });

  it('lets two concurrent runs produce no duplicates (needs a server: two sessions)', {
    tags: 'server',
  }, async () => {
    // Why: the real overlap, not a simulated one: both start at once on a sizeable history.
    // Prepare
    await insertTrades(db.pool, [...generateTrades({ trades: 4000, symbols: 3, seed: 7 })]);
    await runFullRebuild(db, { version: 1 });
    await insertTrades(db.pool, [
      ...generateTrades({ trades: 500, symbols: 3, seed: 8, start: '2026-06-01T00:00:00Z' }),
    ]);

    // Act
    const results = await Promise.all([
      runIncremental(db, { version: 1 }),
      runIncremental(db, { version: 1 }),
      runFullRebuild(db, { version: 1 }),
    ]);

    // Assess
    expect(results.filter((r) => r.status === 'completed').length).toBeGreaterThanOrEqual(1);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT (sell_order_id, coalesce(buy_order_id, '')))::int AS distinct
       FROM fifo_allocations WHERE allocation_version = 1`,
    );
    expect(rows[0].n).toBe(rows[0].distinct);
    await runIncremental(db, { version: 1 });
    expect((await runFullRebuild(db, { version: 1, dryRun: true })).drift.rows).toBe(0);
  });
});

describe('bad rows in trade_records', () => {
  it('are excluded, listed with their reason, counted in health and logged; valid rows still count', async () => {
    // Why: one bad fill must not stop FIFO for every other trade.
    // Prepare
    await insertBotTrades(db.pool, [
      ...basic,
      {
        order_id: 'zero-size',
        symbol: 'BTC-USD',
        side: 'sell',
        order_time: '2026-01-02T12:00:00Z',
        price: '1',
        size: '0',
      },
      {
        order_id: 'neg-price',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-01-02T13:00:00Z',
        price: '-5',
        size: '1',
      },
      {
        order_id: 'nan-size',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-01-02T14:00:00Z',
        price: '1',
        size: 'NaN',
      },
      {
        order_id: 'inf-price',
        symbol: 'ETH-USD',
        side: 'buy',
        order_time: '2026-01-02T14:00:00Z',
        price: 'Infinity',
        size: '1',
      },
      {
        order_id: 'short',
        symbol: 'BTC-USD',
        side: 'short',
        order_time: '2026-01-02T15:00:00Z',
        price: '1',
        size: '1',
      },
    ]);
    const logger = recordingLogger();

    // Act
    const full = await runFullRebuild(db, { version: 1, logger });
    await insertBotTrades(db.pool, [
      {
        order_id: 'neg-fee',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-01-04T00:00:00Z',
        price: '1',
        size: '1',
        fee: '-1',
      },
    ]);
    const incremental = await runIncremental(db, { version: 1, logger });
    const health = await readHealth(db.pool, 1);

    // Assess
    expect(full.status).toBe('completed');
    expect(full.rejectedTrades).toBe(5);
    expect(incremental.rejectedTrades).toBe(1);
    const { rows } = await db.pool.query(
      'SELECT order_id, reason FROM fifo_rejected_trades ORDER BY order_id',
    );
    expect(rows.map((r) => r.order_id)).toEqual([
      'inf-price',
      'nan-size',
      'neg-fee',
      'neg-price',
      'short',
      'zero-size',
    ]);
    expect(rows.find((r) => r.order_id === 'short')!.reason).toContain('side must be buy or sell');
    expect(rows.find((r) => r.order_id === 'zero-size')!.reason).toContain('size must be greater than zero');
    expect(health.rejectedTrades).toBe(6);
    const logged = logger.lines
      .filter((l) => l.message === 'trade rejected')
      .map((l) => (l.fields as { order_id: string }).order_id);
    expect(logged.sort()).toEqual(['inf-price', 'nan-size', 'neg-fee', 'neg-price', 'short', 'zero-size']);
    const { rows: s1 } = await db.pool.query(
      `SELECT count(*)::int AS n FROM fifo_allocations WHERE sell_order_id = 's1' AND buy_order_id IS NOT NULL`,
    );
    expect(s1[0].n).toBe(2);
  });

  it('leave the list once corrected', async () => {
    // Why: a reconcile pass that fixes a fill must bring it back into FIFO.
    // Prepare
    await insertBotTrades(db.pool, [
      ...basic,
      {
        order_id: 'late-fix',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-01-01T12:00:00Z',
        price: '0',
        size: '1',
      },
    ]);
    await runFullRebuild(db, { version: 1 });

    // Act
    await db.pool.query(`UPDATE trade_records SET price = 39000 WHERE order_id = 'late-fix'`);
    await runIncremental(db, { version: 1 });

    // Assess
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM fifo_rejected_trades');
    expect(rows[0].n).toBe(0);
    expect((await runFullRebuild(db, { version: 2 })).allocations).toBe(2);
    expect(await snapshotVersion(db.pool, 1)).toEqual(await snapshotVersion(db.pool, 2));
  });
});

describe('a failed run', () => {
  // A failed run is recorded from a second session, which the embedded PGlite cannot open while
  // the first is being discarded: there it is marked abandoned by the next run instead.
  it('leaves a failed log row with the error, writes nothing, and the next run recovers', {
    tags: 'server',
  }, async () => {
    // Why: nothing is lost or duplicated when a run fails half way.
    // Prepare
    await insertBotTrades(db.pool, basic);
    await runFullRebuild(db, { version: 1 });
    await insertBotTrades(db.pool, [
      {
        order_id: 'poison',
        symbol: 'BTC-USD',
        side: 'sell',
        order_time: '2026-01-04T00:00:00Z',
        price: '1',
        size: '0.1',
      },
    ]);
    await db.pool.query(
      `ALTER TABLE fifo_allocations ADD CONSTRAINT test_poison CHECK (sell_order_id <> 'poison') NOT VALID`,
    );

    // Act
    const failure = await runIncremental(db, { version: 1 }).catch((error: Error) => error);
    const pending = (await readHealth(db.pool, 1)).pendingChanges;
    await db.pool.query('ALTER TABLE fifo_allocations DROP CONSTRAINT test_poison');
    const retry = await runIncremental(db, { version: 1 });

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect(pending).toBe(1);
    expect(retry.status).toBe('completed');
    const { rows } = await db.pool.query(
      `SELECT status, error_message FROM fifo_computation_log WHERE computation_mode = 'incremental' ORDER BY id`,
    );
    expect(rows[0].status).toBe('failed');
    expect(rows[0].error_message).toContain('test_poison');
    expect(rows[1].status).toBe('completed');
    expect((await runFullRebuild(db, { version: 1, dryRun: true })).drift.rows).toBe(0);
  });

  it('a full rebuild whose bulk write fails rolls back everything and logs the error', {
    tags: 'server',
  }, async () => {
    // Why: the rebuild writes while it computes; a write that fails must still fail the whole run.
    // Prepare
    await insertBotTrades(db.pool, basic);
    await db.pool.query(
      `ALTER TABLE fifo_allocations ADD CONSTRAINT test_poison_full CHECK (sell_order_id <> 's1') NOT VALID`,
    );

    // Act
    const failure = await runFullRebuild(db, { version: 1, flushRows: 1 }).catch((error: Error) => error);
    const { rows: written } = await db.pool.query('SELECT count(*)::int AS n FROM fifo_lots');
    await db.pool.query('ALTER TABLE fifo_allocations DROP CONSTRAINT test_poison_full');
    const retry = await runFullRebuild(db, { version: 1 });

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain('test_poison_full');
    expect(written[0].n).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT status, error_message FROM fifo_computation_log ORDER BY id`,
    );
    expect(rows.map((r) => r.status)).toEqual(['failed', 'completed']);
    expect(rows[0].error_message).toContain('test_poison_full');
    expect(retry.allocations).toBe(2);
  });

  it('a run left "running" by a dead process is marked abandoned and does not block', {
    tags: 'server',
  }, async () => {
    // Why: a Lambda timeout or a kill leaves the row behind; the lock dies with the session.
    // Prepare
    await insertBotTrades(db.pool, basic);
    await db.pool.query(
      `INSERT INTO fifo_computation_log (allocation_version, status, computation_mode, fifo_ledger_run)
         VALUES (1, 'running', 'full', true)`,
    );
    const before = await readHealth(db.pool, 1);

    // Act
    const run = await runFullRebuild(db, { version: 1 });
    const after = await readHealth(db.pool, 1);

    // Assess
    expect(before.abandonedRuns).toBe(1);
    expect(run.status).toBe('completed');
    expect(after.abandonedRuns).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT status, error_message FROM fifo_computation_log ORDER BY id LIMIT 1`,
    );
    expect(rows[0].status).toBe('failed');
    expect(rows[0].error_message).toContain('abandoned');
  });

  it('fails clearly when its connection is terminated, and the next run recovers', {
    tags: 'server',
  }, async () => {
    // Why: RDS failover or an operator's pg_terminate_backend must not corrupt anything.
    // Prepare
    await insertTrades(db.pool, [...generateTrades({ trades: 20_000, symbols: 2, seed: 3 })]);
    const killer = new pg.Client({ connectionString: db.url });
    await killer.connect();
    const kill = setInterval(() => {
      killer
        .query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'fifo-ledger'
               AND (query LIKE 'FETCH%' OR query LIKE 'COPY%')`,
        )
        // The last of these may still be running when the killer disconnects.
        .catch(() => {});
    }, 20);

    // Act
    const failure = await runFullRebuild(db, { version: 1 }).catch((error: Error) => error);
    clearInterval(kill);
    await killer.end();
    const retry = await runFullRebuild(db, { version: 1 });

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect(retry.status).toBe('completed');
    const { rows } = await db.pool.query(`SELECT status FROM fifo_computation_log ORDER BY id`);
    expect(rows.map((r) => r.status)).toEqual(['failed', 'completed']);
  });
});

describe('incremental --since', () => {
  it('replays every symbol from that time and ends equal to a full rebuild', async () => {
    // Why: the old cron line (and repairs) force a replay without pending changes.
    // Prepare
    await insertBotTrades(db.pool, basic);
    await runFullRebuild(db, { version: 1 });
    // A buy recorded while change capture was off: no change row tells the next run about it.
    await db.pool.query('ALTER TABLE trade_records DISABLE TRIGGER fifo_capture_insert');
    await insertBotTrades(db.pool, [
      {
        order_id: 'b0',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-01-02T06:00:00Z',
        price: '40500',
        size: '1',
      },
    ]);
    await db.pool.query('ALTER TABLE trade_records ENABLE TRIGGER fifo_capture_insert');

    // Act
    const run = await runIncremental(db, { version: 1, since: '2026-01-02T00:00:00Z' });
    await runFullRebuild(db, { version: 2 });

    // Assess
    expect(run.symbolsReplayed).toBe(1);
    expect(run.tradesProcessed).toBe(3);
    expect(await snapshotVersion(db.pool, 1)).toEqual(await snapshotVersion(db.pool, 2));
  });

  it('accepts "10 minutes ago" and rejects nonsense with a clear error', async () => {
    // Why: the flag takes human intervals; a typo must not silently replay nothing.
    // Prepare
    await insertBotTrades(db.pool, basic);
    await runFullRebuild(db, { version: 1 });

    // Act
    const ok = await runIncremental(db, { version: 1, since: '10 minutes ago' });
    const bad = await runIncremental(db, { version: 1, since: 'yesterdayish' }).catch((e: Error) => e);

    // Assess
    expect(ok.status).toBe('completed');
    expect(bad).toBeInstanceOf(Error);
    expect((bad as Error).message).toContain('--since: "yesterdayish"');
  });
});
