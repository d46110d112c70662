/**
 * Adopting the bot's live database, loaded from its production DDL (test/support/bot-schema.ts):
 * migrate adds only what is missing and breaks nothing of the bot's, the jobs run on it with no
 * manual step, and the bot's own writers keep working after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { withConnection } from '../../shared/db/pool.ts';
import { readHealth, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { BOT_VARIANTS, BOT_VIEWS, type BotVariant, createBotSchema } from '../support/bot-schema.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';

const OURS = 3;

async function botDatabase(variant: BotVariant = 'production'): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  await createBotSchema(db.pool, { variant });
  return db;
}

describe('migrate on the bot database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await botDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('keeps the existing version-2 rows, the views and the data, and is idempotent', async () => {
    // Why: the bot's reports read version 2 through its views; adoption must not break them.
    // Prepare
    const before = await db.pool.query('SELECT * FROM fifo_allocations ORDER BY id');

    // Act
    const first = await withConnection(db, migrate);
    const second = await withConnection(db, migrate);

    // Assess
    expect(first.applied.length).toBeGreaterThan(0);
    expect(second.applied).toEqual([]);
    const after = await db.pool.query('SELECT * FROM fifo_allocations ORDER BY id');
    expect(after.rows).toEqual(before.rows);
    for (const view of BOT_VIEWS) {
      await expect(db.pool.query(`SELECT * FROM ${view}`)).resolves.toBeDefined();
    }
    const { rows: health } = await db.pool.query('SELECT total_allocations::int FROM v_allocation_health');
    expect(health[0].total_allocations).toBe(2);
  });

  it('replaces the cascading foreign keys, relaxes only the net-proceeds check and reuses the bot indexes', async () => {
    // Why: a cascade would delete slices before change capture can give them back to lots, and
    // the bot's CHECK (net_proceeds_usd >= 0) refuses a sell whose fee exceeds its proceeds.
    // Prepare / Act: migrated above
    const { rows: fks } = await db.pool.query(
      `SELECT conname FROM pg_constraint WHERE conrelid = 'fifo_allocations'::regclass AND contype = 'f'`,
    );
    const { rows: checks } = await db.pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE conrelid = 'fifo_allocations'::regclass AND contype = 'c' ORDER BY 1`,
    );
    const { rows: tradeIndexes } = await db.pool.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'trade_records' AND indexdef LIKE '%(symbol, order_time)%'`,
    );
    const { rows: uniques } = await db.pool.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'fifo_allocations' AND indexdef LIKE '%UNIQUE%COALESCE%'`,
    );

    // Assess
    expect(fks).toEqual([]);
    expect(checks.map((c) => c.def).join('\n')).not.toMatch(/net_proceeds_usd >=/);
    expect(checks.map((c) => c.def).join('\n')).toMatch(/proceeds_usd >= \(0\)::numeric/);
    expect(tradeIndexes.map((r) => r.indexname)).toEqual(['idx_trade_records_symbol_order_time']);
    expect(uniques.map((r) => r.indexname)).toEqual(['idx_fifo_allocations_unique']);
  });

  it("refuses to write the bot's version 2, and changes nothing", async () => {
    // Why: a run on version 2 would silently overwrite what the bot's own FIFO wrote.
    // Prepare
    const before = await db.pool.query('SELECT * FROM fifo_allocations ORDER BY id');

    // Act
    const full = await runFullRebuild(db, { version: 2 }).catch((error: Error) => error);
    const incremental = await runIncremental(db, { version: 2 }).catch((error: Error) => error);

    // Assess
    expect(String(full)).toMatch(
      /version 2 holds 2 allocation rows that fifo-ledger did not write.*--take-over-version.*docs\/migration\.md/,
    );
    expect(String(incremental)).toMatch(/version 2 holds 2 allocation rows/);
    expect((await db.pool.query('SELECT * FROM fifo_allocations ORDER BY id')).rows).toEqual(before.rows);
    const { rows: log } = await db.pool.query(
      'SELECT count(*)::int AS n FROM fifo_computation_log WHERE fifo_ledger_run',
    );
    expect(log[0].n).toBe(0);
  });

  it("builds its own version beside the bot's, with log rows the bot's columns accept", async () => {
    // Why: the bot's log has computation_start NOT NULL without default, allocation_batch_id
    // NOT NULL and symbols_processed varchar[]; the first real rebuild failed on exactly these.
    // Prepare
    const botV2 = await db.pool.query(
      'SELECT * FROM fifo_allocations WHERE allocation_version = 2 ORDER BY id',
    );

    // Act
    const full = await runFullRebuild(db, { version: OURS });
    await db.pool.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, "trigger", status, source)
       VALUES ('dec-sell', 'TOSHI-USD', 'sell', '2025-12-01T00:00:00Z', 0.0005, 1000, '{}', 'filled', 'webhook')`,
    );
    const incremental = await runIncremental(db, { version: OURS });
    const health = await readHealth(db.pool, OURS);

    // Assess: FIFO takes the November sell from the October lot's remaining 6,605 first, then
    // the November lot; the bot's row matched the whole sell to the stale October lot.
    expect(full.status).toBe('completed');
    expect(incremental.tradesProcessed).toBe(1);
    const { rows } = await db.pool.query(
      `SELECT buy_order_id, allocated_size::text FROM fifo_allocations
       WHERE allocation_version = $1 AND sell_order_id = 'nov-sell' ORDER BY buy_time`,
      [OURS],
    );
    expect(rows).toEqual([
      { buy_order_id: 'oct-buy', allocated_size: '6605' },
      { buy_order_id: 'nov-buy', allocated_size: '26790' },
    ]);
    const { rows: log } = await db.pool.query(
      `SELECT computation_mode, status, symbols_processed, allocation_batch_id IS NOT NULL AS batch
       FROM fifo_computation_log WHERE fifo_ledger_run ORDER BY id`,
    );
    expect(log).toEqual([
      { computation_mode: 'full', status: 'completed', symbols_processed: ['TOSHI-USD'], batch: true },
      { computation_mode: 'incremental', status: 'completed', symbols_processed: ['TOSHI-USD'], batch: true },
    ]);
    expect(health.lastSuccess.full?.id).toBe(full.runId);
    expect(health.foreignRuns24h).toBe(0);
    expect(
      (await db.pool.query('SELECT * FROM fifo_allocations WHERE allocation_version = 2 ORDER BY id')).rows,
    ).toEqual(botV2.rows);
  });

  it("keeps the bot's own writers working: its FIFO script's log rows and version-2 allocations", async () => {
    // Why: the bot's FIFO cron runs until the operator switches it off (docs/design.md §3.1).
    // Prepare
    const statuses = ['running', 'completed', 'failed', 'partial'];

    // Act
    await db.pool.query('BEGIN');
    await db.pool.query('DELETE FROM fifo_allocations WHERE allocation_version = 2');
    await db.pool.query(
      `INSERT INTO fifo_allocations (sell_order_id, buy_order_id, symbol, allocated_size, buy_price, sell_price,
         buy_fees_per_unit, sell_fees_per_unit, cost_basis_usd, proceeds_usd, net_proceeds_usd, pnl_usd, buy_time,
         sell_time, allocation_version, allocation_batch_id)
       VALUES ('oct-sell', 'oct-buy', 'TOSHI-USD', 33395, 0.000773, 0.0008, 0.0000025, 0.000003, 25.8144, 26.716,
               26.616, 0.8016, '2025-10-01T10:00:00Z', '2025-10-15T10:00:00Z', 2, gen_random_uuid())`,
    );
    for (const status of statuses) {
      await db.pool.query(
        `INSERT INTO fifo_computation_log (allocation_version, allocation_batch_id, computation_start, status,
           symbols_processed, computation_mode, triggered_by)
         VALUES (2, gen_random_uuid(), now(), $1, ARRAY['TOSHI-USD'], 'full', 'manual')`,
        [status],
      );
    }
    await db.pool.query('COMMIT');
    const run = await runIncremental(db, { version: OURS });
    const health = await readHealth(db.pool, OURS);

    // Assess: the bot's 'running' row is the bot's business, never marked abandoned by us.
    expect(run.status).toBe('completed');
    const { rows } = await db.pool.query(
      `SELECT status FROM fifo_computation_log WHERE NOT fifo_ledger_run AND computation_start > now() - interval '1 hour'
       ORDER BY id`,
    );
    expect(rows.map((r) => r.status)).toEqual(statuses);
    expect(health.abandonedRuns).toBe(0);
    expect(health.foreignRuns24h).toBe(4);
    expect(health.lastRun.incremental?.id).toBe(run.runId);
  });

  it('writes a sell whose fee exceeds its proceeds, which the bot table used to refuse', async () => {
    // Why: FIFO rule 3 gives negative net proceeds there; one such sell must not stop every run.
    // Prepare
    await db.pool.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, "trigger", status)
       VALUES ('dust-buy', 'DUST-USD', 'buy', '2025-12-01T00:00:00Z', 0.01, 1, 0, '{}', 'filled'),
              ('dust-sell', 'DUST-USD', 'sell', '2025-12-02T00:00:00Z', 0.01, 1, 0.05, '{}', 'filled')`,
    );

    // Act
    const run = await runIncremental(db, { version: OURS });

    // Assess
    expect(run.status).toBe('completed');
    const { rows } = await db.pool.query(
      `SELECT net_proceeds_usd::text, pnl_usd::text FROM fifo_allocations
       WHERE allocation_version = $1 AND sell_order_id = 'dust-sell'`,
      [OURS],
    );
    expect(rows).toEqual([{ net_proceeds_usd: '-0.04', pnl_usd: '-0.05' }]);
  });
});

describe.each(Object.keys(BOT_VARIANTS).filter((v) => v !== 'production') as BotVariant[])(
  'the bot database, variant %s',
  (variant) => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await botDatabase(variant);
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('migrates, builds and runs incrementally with no manual step', async () => {
      // Why: an older or tidied-up bot (no deprecated columns, no views, no FIFO tables yet)
      // is still the bot's database; adoption must not need the exact production shape.
      // Prepare
      await withConnection(db, migrate);
      await db.pool.query(
        `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, "trigger", status)
         VALUES ('v-buy', 'ETH-USD', 'buy', '2025-12-01T00:00:00Z', 2000, 1, '{}', 'filled'),
                ('v-sell', 'ETH-USD', 'sell', '2025-12-02T00:00:00Z', 2100, 0.5, '{}', 'filled')`,
      );

      // Act
      const full = await runFullRebuild(db, { version: OURS });
      await db.pool.query(`DELETE FROM trade_records WHERE order_id = 'v-sell'`);
      const incremental = await runIncremental(db, { version: OURS });
      const check = await runFullRebuild(db, { version: OURS, dryRun: true });

      // Assess
      expect(full.status).toBe('completed');
      expect(incremental.status).toBe('completed');
      expect(check.drift.rows).toBe(0);
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM fifo_allocations WHERE allocation_version = $1 AND symbol = 'ETH-USD'`,
        [OURS],
      );
      expect(rows[0].n).toBe(0);
    });
  },
);

describe("taking over the bot's version", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await botDatabase();
    await withConnection(db, migrate);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('replaces its rows with FIFO, reports them as drift, and owns the version from then on', async () => {
    // Why: after the bot's FIFO cron is off, an operator may keep the number its views read.
    // Prepare: the bot's version 2 holds 2 stale-lot rows

    // Act
    const full = await runFullRebuild(db, { version: 2, takeOverVersion: true });
    const next = await runIncremental(db, { version: 2 });

    // Assess
    expect(full.status).toBe('completed');
    expect(full.drift.rows).toBeGreaterThan(0);
    expect(next.status).toBe('completed');
    const { rows } = await db.pool.query(
      `SELECT buy_order_id, allocated_size::text FROM fifo_allocations
       WHERE allocation_version = 2 AND sell_order_id = 'nov-sell' ORDER BY buy_time`,
    );
    expect(rows).toEqual([
      { buy_order_id: 'oct-buy', allocated_size: '6605' },
      { buy_order_id: 'nov-buy', allocated_size: '26790' },
    ]);
  });
});
