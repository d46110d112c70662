/**
 * No poison trades. A buy and a sell with order ids of
 * about 1.5 KB, which trade_records accepts, made every incremental run and every full rebuild
 * fail on the allocations' unique key ("index row size 3032 exceeds btree version 4 maximum
 * 2704"), and trades of other symbols waited behind them. Now they are bad rows like any other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ORDER_ID_BYTES, MAX_SYMBOL_BYTES } from '../../shared/fifo/index.ts';
import { readHealth, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertBotTrades } from '../support/fixtures.ts';

const longId = (tag: string) => `${tag}-${'x'.repeat(1_500)}`;

describe('order ids and symbols too long for a key', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('are rejected and counted, and the rest of the ledger keeps running', async () => {
    // Why: one bad row must never halt the whole ledger.
    // Prepare: the reproduction, then normal trades of another symbol
    await insertBotTrades(db.pool, [
      {
        order_id: longId('buy'),
        symbol: 'BTC-USD',
        side: 'buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '100',
        size: '1',
      },
      {
        order_id: longId('sell'),
        symbol: 'BTC-USD',
        side: 'sell',
        order_time: '2026-01-02T00:00:00Z',
        price: '110',
        size: '1',
      },
      {
        order_id: 'wide-symbol',
        symbol: `W${'Y'.repeat(MAX_SYMBOL_BYTES)}-USD`,
        side: 'buy',
        order_time: '2026-01-01T00:00:00Z',
        price: '1',
        size: '1',
      },
    ]);
    const full = await runFullRebuild(db, { version: 1 });
    await insertBotTrades(db.pool, [
      {
        order_id: 'e1',
        symbol: 'ETH-USD',
        side: 'buy',
        order_time: '2026-01-03T00:00:00Z',
        price: '2000',
        size: '1',
      },
      {
        order_id: 'e2',
        symbol: 'ETH-USD',
        side: 'sell',
        order_time: '2026-01-04T00:00:00Z',
        price: '2100',
        size: '1',
      },
      {
        order_id: longId('late'),
        symbol: 'ETH-USD',
        side: 'buy',
        order_time: '2026-01-02T00:00:00Z',
        price: '1',
        size: '1',
      },
    ]);

    // Act
    const incremental = await runIncremental(db, { version: 1 });
    const check = await runFullRebuild(db, { version: 1, dryRun: true });
    const health = await readHealth(db.pool, 1);

    // Assess
    expect(full.status).toBe('completed');
    expect(incremental.status).toBe('completed');
    expect(check.drift.rows).toBe(0);
    const { rows: allocated } = await db.pool.query(
      `SELECT sell_order_id, buy_order_id, pnl_usd::text FROM fifo_allocations WHERE allocation_version = 1`,
    );
    expect(allocated).toEqual([{ sell_order_id: 'e2', buy_order_id: 'e1', pnl_usd: '100' }]);
    const { rows: rejected } = await db.pool.query(
      `SELECT left(order_id, 5) AS id, reason FROM fifo_rejected_trades ORDER BY 1`,
    );
    expect(rejected).toEqual([
      { id: 'buy-x', reason: `order_id is 1,504 bytes long; the limit is ${MAX_ORDER_ID_BYTES}` },
      { id: 'late-', reason: `order_id is 1,505 bytes long; the limit is ${MAX_ORDER_ID_BYTES}` },
      { id: 'sell-', reason: `order_id is 1,505 bytes long; the limit is ${MAX_ORDER_ID_BYTES}` },
      { id: 'wide-', reason: `symbol is 133 bytes long; the limit is ${MAX_SYMBOL_BYTES}` },
    ]);
    expect(health.rejectedTrades).toBe(4);
  });
});
