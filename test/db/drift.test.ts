/**
 * Drift means drift (README, "Safety"): the nightly rebuild consumes the changes captured but not
 * yet consumed and reports them apart, so a bot that trades around the clock never pages at
 * night; a change change capture missed is still drift.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type BotTrade, insertBotTrades, resetTables, snapshotVersion } from '../support/fixtures.ts';

const at = (day: number, hour = 9) => new Date(Date.UTC(2026, 0, day, hour)).toISOString();
const HISTORY: BotTrade[] = [
  { order_id: 'b1', symbol: 'BTC-USD', side: 'buy', order_time: at(1), price: '40000', size: '1', fee: '4' },
  { order_id: 'b2', symbol: 'BTC-USD', side: 'buy', order_time: at(2), price: '41000', size: '1', fee: '4' },
  {
    order_id: 's1',
    symbol: 'BTC-USD',
    side: 'sell',
    order_time: at(3),
    price: '42000',
    size: '1.5',
    fee: '6',
  },
  { order_id: 'e1', symbol: 'ETH-USD', side: 'buy', order_time: at(1), price: '2000', size: '2', fee: '1' },
  { order_id: 'e2', symbol: 'ETH-USD', side: 'sell', order_time: at(4), price: '2100', size: '1', fee: '1' },
];

describe('the nightly rebuild and the changes not yet consumed', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await resetTables(db.pool);
    await insertBotTrades(db.pool, HISTORY);
    await runFullRebuild(db, { version: 1 });
  });

  /** What a fresh build of the same trades gives, for comparison. */
  async function freshBuild() {
    await runFullRebuild(db, { version: 9 });
    const rebuilt = await snapshotVersion(db.pool, 9);
    await db.pool.query('DELETE FROM fifo_allocations WHERE allocation_version = 9');
    await db.pool.query('DELETE FROM fifo_lots WHERE allocation_version = 9');
    await db.pool.query('DELETE FROM fifo_versions WHERE allocation_version = 9');
    await db.pool.query('DELETE FROM fifo_trade_changes WHERE allocation_version = 9');
    await db.pool.query('DELETE FROM fifo_symbol_progress WHERE allocation_version = 9');
    return rebuilt;
  }

  it('pending inserts, late fills, corrections, cancellations and moved trades: zero drift, all applied', async () => {
    // Why: these used to be reported as drift (2 rows, 14.65 USD for one insert) and page at night.
    // Prepare: everything the bot does between two incremental runs, none consumed yet.
    await insertBotTrades(db.pool, [
      {
        order_id: 'b3',
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: at(5),
        price: '43000',
        size: '1',
        fee: '4',
      },
      { order_id: 'late', symbol: 'BTC-USD', side: 'buy', order_time: at(2, 12), price: '1', size: '0.1' },
    ]);
    await db.pool.query(`UPDATE trade_records SET price = 42500 WHERE order_id = 's1'`);
    await db.pool.query(`DELETE FROM trade_records WHERE order_id = 'e2'`);
    await db.pool.query(`UPDATE trade_records SET symbol = 'SOL-USD' WHERE order_id = 'e1'`);

    // Act
    const dryRun = await runFullRebuild(db, { version: 1, dryRun: true });
    const full = await runFullRebuild(db, { version: 1 });
    const after = await runIncremental(db, { version: 1 });

    // Assess
    for (const run of [dryRun, full]) {
      expect(run.drift).toEqual({
        rowsAdded: 0,
        rowsRemoved: 0,
        rowsChanged: 0,
        rows: 0,
        usd: '0',
        lotRows: 0,
      });
    }
    expect(full.pendingApplied.changes).toBeGreaterThanOrEqual(6);
    expect(full.pendingApplied.symbols).toBe(3);
    expect(full.pendingApplied.rows).toBeGreaterThan(0);
    expect(after.changesConsumed).toBe(0);
    expect(await snapshotVersion(db.pool, 1)).toEqual(await freshBuild());
    const { rows } = await db.pool.query(
      `SELECT drift_rows_added + drift_rows_removed + drift_rows_changed AS drift, details->'pending_applied' AS pending
       FROM fifo_computation_log WHERE id = $1`,
      [full.runId],
    );
    expect(rows[0].drift).toBe(0);
    expect(rows[0].pending).toMatchObject({ changes: full.pendingApplied.changes, symbols: 3 });
  });

  it('a change made while change capture was off is still drift', async () => {
    // Why: drift is a real finding (a disabled trigger, a manual edit); it must keep alarming.
    // Prepare
    await db.pool.query('ALTER TABLE trade_records DISABLE TRIGGER fifo_capture_update');
    try {
      await db.pool.query(`UPDATE trade_records SET price = 43000 WHERE order_id = 's1'`);
    } finally {
      await db.pool.query('ALTER TABLE trade_records ENABLE TRIGGER fifo_capture_update');
    }
    // A pending change in another symbol must not hide it.
    await db.pool.query(`UPDATE trade_records SET price = 2200 WHERE order_id = 'e2'`);

    // Act
    const full = await runFullRebuild(db, { version: 1 });

    // Assess: s1's two slices changed, 1,000 USD of pnl each way across them.
    expect(full.drift.rowsChanged).toBe(2);
    expect(full.drift.usd).toBe('1500');
    expect(full.pendingApplied).toMatchObject({ changes: 2, symbols: 1, rows: 1 });
  });

  it('a stale row before the earliest pending change of its symbol is still drift', async () => {
    // Why: a pending change only explains rows at or after it; FIFO never reaches back.
    // Prepare: s1 wrong in the store, and a later pending sell in the same symbol.
    await db.pool.query(
      `UPDATE fifo_allocations SET pnl_usd = pnl_usd + 1 WHERE allocation_version = 1 AND sell_order_id = 's1'
         AND buy_order_id = 'b1'`,
    );
    await insertBotTrades(db.pool, [
      { order_id: 's2', symbol: 'BTC-USD', side: 'sell', order_time: at(6), price: '45000', size: '0.1' },
    ]);

    // Act
    const full = await runFullRebuild(db, { version: 1 });

    // Assess
    expect(full.drift.rowsChanged).toBe(1);
    expect(full.drift.usd).toBe('1');
    expect(full.pendingApplied.rows).toBe(1);
  });

  it('a busy bot: fills keep arriving during the rebuild, and no drift is reported', {
    tags: 'server',
    timeout: 120_000,
  }, async () => {
    // Why: the nightly run meets a live bot; every change it does not see stays for the next run.
    // Prepare: a bigger history, so the rebuild takes long enough to overlap the writes.
    const many: BotTrade[] = [];
    for (let i = 0; i < 20_000; i++) {
      many.push({
        order_id: `h${String(i).padStart(6, '0')}`,
        symbol: `S${i % 40}-USD`,
        side: i % 3 === 2 ? 'sell' : 'buy',
        order_time: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
        price: String(100 + (i % 17)),
        size: i % 3 === 2 ? '1.5' : '1',
      });
    }
    await insertBotTrades(db.pool, many);
    await runIncremental(db, { version: 1 });
    let writing = true;
    let written = 0;
    const bot = (async () => {
      while (writing) {
        const i = written++;
        await insertBotTrades(db.pool, [
          {
            order_id: `live${i}`,
            symbol: `S${i % 40}-USD`,
            side: i % 2 ? 'sell' : 'buy',
            order_time: new Date(Date.UTC(2025, 0, 1) + (i % 20_000) * 60_000 + 1).toISOString(),
            price: '150',
            size: '0.5',
          },
        ]);
        if (i % 5 === 0)
          await db.pool.query(`UPDATE trade_records SET price = price + 1 WHERE order_id = $1`, [
            `h${String(i * 7).padStart(6, '0')}`,
          ]);
      }
    })();

    // Act
    const nights = [];
    for (let n = 0; n < 3; n++) nights.push(await runFullRebuild(db, { version: 1 }));
    writing = false;
    await bot;
    await runIncremental(db, { version: 1 });

    // Assess
    expect(written).toBeGreaterThan(10);
    for (const night of nights) {
      expect(night.status).toBe('completed');
      expect(night.drift.rows).toBe(0);
    }
    expect(nights.some((n) => n.pendingApplied.changes > 0)).toBe(true);
    const check = await runFullRebuild(db, { version: 1, dryRun: true });
    expect(check.drift.rows).toBe(0);
    expect(check.pendingApplied.changes).toBe(0);
  });
});
