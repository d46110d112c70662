/** Adopting the bot's live database: migrate adds only what is missing and breaks nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { createBotSchema } from '../support/bot-schema.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';

async function migrateWith(db: TestDatabase) {
  const client = await db.pool.connect();
  try {
    return await migrate(client);
  } finally {
    client.release();
  }
}

describe('migrate on the bot database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createEmptyDatabase();
    await createBotSchema(db.pool);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('keeps the existing version-2 rows, the views and the data, and is idempotent', async () => {
    // Why: the bot's reports read version 2 through its views; adoption must not break them.
    // Prepare
    const before = await db.pool.query('SELECT * FROM fifo_allocations ORDER BY id');

    // Act
    const first = await migrateWith(db);
    const second = await migrateWith(db);

    // Assess
    expect(first.applied.length).toBeGreaterThan(0);
    expect(second.applied).toEqual([]);
    const after = await db.pool.query('SELECT * FROM fifo_allocations ORDER BY id');
    expect(after.rows.map((r) => ({ ...r, allocation_time: null }))).toEqual(
      before.rows.map((r) => ({ ...r, allocation_time: null })),
    );
    for (const view of [
      'v_allocation_health',
      'v_unmatched_sells',
      'v_pnl_by_symbol',
      'v_allocation_discrepancies',
    ]) {
      await expect(db.pool.query(`SELECT * FROM ${view}`)).resolves.toBeDefined();
    }
    const { rows: health } = await db.pool.query('SELECT allocations::int FROM v_allocation_health');
    expect(health[0].allocations).toBe(2);
  });

  it('replaces the cascading foreign keys and does not duplicate the bot indexes', async () => {
    // Why: a cascade would delete slices before change capture can give them back to lots.
    // Prepare / Act: migrated above
    const { rows: fks } = await db.pool.query(
      `SELECT conname FROM pg_constraint WHERE conrelid = 'fifo_allocations'::regclass AND contype = 'f'`,
    );
    const { rows: tradeIndexes } = await db.pool.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'trade_records' AND indexdef LIKE '%(symbol, order_time)%'`,
    );
    const { rows: uniques } = await db.pool.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'fifo_allocations' AND indexdef LIKE '%UNIQUE%COALESCE%'`,
    );

    // Assess
    expect(fks).toEqual([]);
    expect(tradeIndexes.map((r) => r.indexname)).toEqual(['ix_trade_records_symbol_order_time']);
    expect(uniques.map((r) => r.indexname)).toEqual(['uq_fifo_alloc_sell_buy_version']);
  });

  it('rebuilds version 2 with FIFO, reports the drift from the stale-lot rows, and then runs incrementally', async () => {
    // Why: the nightly rebuild must prove (and here repair) what the bot's inline code wrote.
    // Prepare: migrated above

    // Act
    const full = await runFullRebuild(db, { version: 2 });
    await db.pool.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, "trigger")
       VALUES ('dec-sell', 'TOSHI-USD', 'sell', '2025-12-01T00:00:00Z', 0.0005, 1000, '{}')`,
    );
    const incremental = await runIncremental(db, { version: 2 });

    // Assess: FIFO takes the November sell from the October lot's remaining 6,605 first,
    // then the November lot; the bot's row matched the whole sell to the stale October lot.
    expect(full.status).toBe('completed');
    expect(full.drift.rows).toBeGreaterThan(0);
    expect(Number(full.drift.usd)).toBeGreaterThan(0);
    const { rows } = await db.pool.query(
      `SELECT buy_order_id, allocated_size::text FROM fifo_allocations
       WHERE allocation_version = 2 AND sell_order_id = 'nov-sell' ORDER BY buy_time`,
    );
    expect(rows).toEqual([
      { buy_order_id: 'oct-buy', allocated_size: '6605' },
      { buy_order_id: 'nov-buy', allocated_size: '26790' },
    ]);
    expect(incremental.status).toBe('completed');
    expect(incremental.tradesProcessed).toBe(1);
    const { rows: log } = await db.pool.query(
      `SELECT status FROM fifo_computation_log WHERE allocation_version = 2 ORDER BY id`,
    );
    expect(log.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    const { rows: remaining } = await db.pool.query(
      `SELECT order_id, remaining_size FROM trade_records WHERE side = 'buy' ORDER BY order_id`,
    );
    expect(remaining).toEqual([
      { order_id: 'nov-buy', remaining_size: 5605 },
      { order_id: 'oct-buy', remaining_size: 0 },
    ]);
  });
});
