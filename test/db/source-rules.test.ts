/** Which trade_records rows count: per-fill rows, future times, mixed-case sides. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readHealth, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertBotTrades, resetTables, snapshotVersion } from '../support/fixtures.ts';

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

const ORDER = '3f2b1c9e-0000-4000-8000-000000000001';

describe('per-fill rows', () => {
  it('count once: the order row counts and its -FILL-n rows do not', async () => {
    // Why: the bot writes an order and each of its fills; counting both doubles the trade.
    // Prepare
    await insertBotTrades(db.pool, [
      {
        order_id: 'b1',
        symbol: 'ETH-USD',
        side: 'buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '3000',
        size: '2',
      },
      {
        order_id: ORDER,
        symbol: 'ETH-USD',
        side: 'sell',
        order_time: '2026-01-02T00:00:02Z',
        price: '3100',
        size: '1.5',
      },
      {
        order_id: `${ORDER}-FILL-1`,
        symbol: 'ETH-USD',
        side: 'sell',
        order_time: '2026-01-02T00:00:01Z',
        price: '3100',
        size: '1',
      },
      {
        order_id: `${ORDER}-FILL-2`,
        symbol: 'ETH-USD',
        side: 'sell',
        order_time: '2026-01-02T00:00:02Z',
        price: '3100',
        size: '0.5',
      },
    ]);

    // Act
    const full = await runFullRebuild(db, { version: 1 });

    // Assess
    expect(full.rejectedTrades).toBe(0);
    const { rows } = await db.pool.query(
      'SELECT sell_order_id, allocated_size::text FROM fifo_allocations ORDER BY sell_order_id',
    );
    expect(rows).toEqual([{ sell_order_id: ORDER, allocated_size: '1.5' }]);
  });

  it('without their order row are listed for review, and incremental runs stay equal to a rebuild', async () => {
    // Why: fills alone are left out of FIFO, so someone must see that their order row is missing.
    // Prepare
    await insertBotTrades(db.pool, [
      {
        order_id: 'b1',
        symbol: 'ETH-USD',
        side: 'buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '3000',
        size: '2',
      },
      {
        order_id: `${ORDER}-FILL-1`,
        symbol: 'ETH-USD',
        side: 'sell',
        order_time: '2026-01-02T00:00:01Z',
        price: '3100',
        size: '1',
      },
    ]);

    // Act
    const full = await runFullRebuild(db, { version: 1 });
    const healthBefore = await readHealth(db.pool, 1);
    await insertBotTrades(db.pool, [
      {
        order_id: ORDER,
        symbol: 'ETH-USD',
        side: 'sell',
        order_time: '2026-01-02T00:00:02Z',
        price: '3100',
        size: '1',
      },
    ]);
    await runIncremental(db, { version: 1 });
    const after = await runFullRebuild(db, { version: 1 });

    // Assess
    expect(full.rejectedTrades).toBe(1);
    expect(healthBefore.rejectedTrades).toBe(1);
    const { rows } = await db.pool.query('SELECT order_id, reason FROM fifo_rejected_trades');
    expect(rows).toEqual([]);
    expect(after.drift.rows).toBe(0);
  });
});

describe('order times in the future', () => {
  it('are rejected with the reason, then taken in by the first incremental run once the clock passes them', async () => {
    // Why: a fill cannot be in the future; but a clock skew must not lose the trade for good.
    // Prepare
    const { rows: now } = await db.pool.query(`SELECT (now() + interval '1 day 2 seconds')::text AS soon`);
    await insertBotTrades(db.pool, [
      {
        order_id: 'b1',
        symbol: 'SOL-USD',
        side: 'buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '100',
        size: '1',
      },
      {
        order_id: 'far',
        symbol: 'SOL-USD',
        side: 'buy',
        order_time: '2999-01-01T00:00:00Z',
        price: '100',
        size: '1',
      },
      { order_id: 'soon', symbol: 'SOL-USD', side: 'sell', order_time: now[0].soon, price: '120', size: '1' },
    ]);

    // Act
    const full = await runFullRebuild(db, { version: 1 });
    const { rows: rejected } = await db.pool.query(
      'SELECT order_id, reason FROM fifo_rejected_trades ORDER BY order_id',
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const incremental = await runIncremental(db, { version: 1 });

    // Assess
    expect(full.rejectedTrades).toBe(2);
    expect(rejected.map((r) => r.order_id)).toEqual(['far', 'soon']);
    expect(rejected[0].reason).toContain('order_time is in the future');
    // The replay from 'soon' reads it and 'far' (rejected again).
    expect(incremental.tradesProcessed).toBe(2);
    const { rows: sold } = await db.pool.query(
      `SELECT buy_order_id FROM fifo_allocations WHERE sell_order_id = 'soon'`,
    );
    expect(sold).toEqual([{ buy_order_id: 'b1' }]);
    const { rows } = await db.pool.query('SELECT order_id FROM fifo_rejected_trades');
    expect(rows).toEqual([{ order_id: 'far' }]);
    await runFullRebuild(db, { version: 2 });
    expect((await snapshotVersion(db.pool, 1)).allocations).toEqual(
      (await snapshotVersion(db.pool, 2)).allocations,
    );
  });
});

describe('sides', () => {
  it('are read case-insensitively and trimmed, as the trade source normalises them', async () => {
    // Why: a "Buy" from a manual import is a buy, not a bad row.
    // Prepare
    await insertBotTrades(db.pool, [
      {
        order_id: 'b1',
        symbol: 'BTC-USD',
        side: ' Buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '100',
        size: '1',
      },
      {
        order_id: 's1',
        symbol: 'BTC-USD',
        side: 'SELL ',
        order_time: '2026-01-02T00:00:00Z',
        price: '110',
        size: '1',
      },
    ]);

    // Act
    const full = await runFullRebuild(db, { version: 1 });

    // Assess
    expect(full.rejectedTrades).toBe(0);
    expect(full.realizedPnlUsd).toBe('10');
  });
});

describe('order ids with COPY special characters', () => {
  it('round-trip exactly through the COPY reader and writer', async () => {
    // Why: both bulk paths use COPY's text format, where tab, newline and backslash are escapes.
    // Prepare
    const buy = 'b\\1\tx';
    const sell = 's\n1\\N';
    await insertBotTrades(db.pool, [
      {
        order_id: buy,
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '100',
        size: '1',
      },
      {
        order_id: sell,
        symbol: 'BTC-USD',
        side: 'sell',
        order_time: '2026-01-02T00:00:00Z',
        price: '110',
        size: '1',
      },
    ]);

    // Act
    const full = await runFullRebuild(db, { version: 1 });

    // Assess
    expect(full.rejectedTrades).toBe(0);
    const { rows } = await db.pool.query('SELECT sell_order_id, buy_order_id FROM fifo_allocations');
    expect(rows).toEqual([{ sell_order_id: sell, buy_order_id: buy }]);
    const { rows: lots } = await db.pool.query('SELECT buy_order_id FROM fifo_lots');
    expect(lots).toEqual([{ buy_order_id: buy }]);
  });
});
