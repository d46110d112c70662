/** The parallel run: `fifo compare --versions A,B` and `fifo prune --keep N`. */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_NAMESPACE } from '../../shared/db/sql.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { compareVersions } from '../../shared/legacy/compare-versions.ts';
import { listVersions, planPrune, pruneVersions, VersionError } from '../../shared/legacy/versions.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertBotTrades } from '../support/fixtures.ts';
import { withClient } from './support.ts';

/** AAA-USD: a buy of 4 @ 10, then sells sA..sD of 1 @ 12, 13, 11, 10: FIFO pnl +2, +3, +1, 0. */
async function loadTrades(db: TestDatabase) {
  await db.pool.query(
    'TRUNCATE trade_records, fifo_allocations, fifo_lots, fifo_symbol_progress, fifo_trade_changes, fifo_versions, fifo_computation_log',
  );
  const t = (order_id: string, side: string, hour: number, price: string) => ({
    order_id,
    symbol: 'AAA-USD',
    side,
    order_time: `2025-03-01T0${hour}:00:00Z`,
    price,
    size: side === 'buy' ? '4' : '1',
  });
  await insertBotTrades(db.pool, [
    t('b1', 'buy', 0, '10'),
    t('sA', 'sell', 1, '12'),
    t('sB', 'sell', 2, '13'),
    t('sC', 'sell', 3, '11'),
    t('sD', 'sell', 4, '10'),
  ]);
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('compare --versions', () => {
  beforeEach(async () => {
    await loadTrades(db);
    await runFullRebuild(db, { version: 1 });
    await runFullRebuild(db, { version: 2 });
  });

  it('reports nothing when two versions agree', async () => {
    // Why: a parallel run whose versions agree must say so plainly, or every run looks alarming.
    // Prepare: versions 1 and 2 built from the same trades

    // Act
    const c = await withClient(db.pool, (client) => compareVersions(client, 1, 2));

    // Assess
    expect(c.totalDifference).toBe('0');
    expect(c.sells).toEqual({ inBoth: 4, same: 4, pnlDiffers: 0, slicesDiffer: 0, onlyInA: 0, onlyInB: 0 });
    expect(c.rows).toEqual({ onlyInA: 0, onlyInB: 0 });
    expect(c.differences).toEqual([]);
    expect(c.a).toEqual({ version: 1, allocations: 4, sells: 4, realizedPnl: '6', unmatchedSells: 0 });
  });

  it('finds sells whose PnL differs, whose slices differ, and sells and rows only in one version', async () => {
    // Why: before switching versions, the operator must see every sell the switch changes.
    // Prepare: version 2 diverges from version 1 in each way
    await db.pool.query(`
      UPDATE fifo_allocations SET pnl_usd = pnl_usd + 1 WHERE allocation_version = 2 AND sell_order_id = 'sA';
      DELETE FROM fifo_allocations WHERE allocation_version = 2 AND sell_order_id = 'sB';
      UPDATE fifo_allocations SET cost_basis_usd = cost_basis_usd + 1, net_proceeds_usd = net_proceeds_usd + 1
        WHERE allocation_version = 2 AND sell_order_id = 'sC';
      INSERT INTO fifo_allocations (sell_order_id, buy_order_id, symbol, allocated_size, buy_price, sell_price,
        buy_fees_per_unit, sell_fees_per_unit, cost_basis_usd, proceeds_usd, net_proceeds_usd, pnl_usd, buy_time,
        sell_time, allocation_version)
      SELECT 'zz', buy_order_id, symbol, allocated_size, buy_price, sell_price, buy_fees_per_unit, sell_fees_per_unit,
             cost_basis_usd, proceeds_usd, net_proceeds_usd, 5, buy_time, sell_time + interval '1 hour', 2
      FROM fifo_allocations WHERE allocation_version = 1 AND sell_order_id = 'sD'`);

    // Act
    const c = await withClient(db.pool, (client) => compareVersions(client, 1, 2));

    // Assess
    expect(c.a.realizedPnl).toBe('6');
    expect(c.b.realizedPnl).toBe('9'); // 3 + 1 + 0 + 5
    expect(c.totalDifference).toBe('3');
    expect(c.sells).toEqual({ inBoth: 3, same: 1, pnlDiffers: 1, slicesDiffer: 1, onlyInA: 1, onlyInB: 1 });
    expect(c.rows).toEqual({ onlyInA: 1, onlyInB: 1 });
    expect(c.differences.map((d) => [d.sellOrderId, d.pnlA, d.pnlB, d.difference, d.status])).toEqual([
      ['zz', null, '5', '5', 'only_b'],
      ['sB', '3', null, '-3', 'only_a'],
      ['sA', '2', '3', '1', 'pnl_differs'],
      ['sC', '1', '1', '0', 'slices_differ'],
    ]);
  });

  it('refuses to compare a version with itself', async () => {
    // Why: "--versions 3,3" is a typo, not a comparison.
    // Prepare: nothing

    // Act
    const outcome = withClient(db.pool, (client) => compareVersions(client, 3, 3));

    // Assess
    await expect(outcome).rejects.toThrow(VersionError);
  });
});

describe('planPrune', () => {
  it('keeps the active version and the N-1 highest others, whatever the active one is', () => {
    // Prepare
    const versions = [1, 2, 3, 4];

    // Act
    const plans = [
      planPrune(versions, 2, 2),
      planPrune(versions, 2, 4),
      planPrune(versions, 1, 1),
      planPrune(versions, 9, 1),
    ];

    // Assess
    expect(plans).toEqual([
      { keep: [2, 4], remove: [1, 3] },
      { keep: [3, 4], remove: [1, 2] },
      { keep: [1], remove: [2, 3, 4] },
      { keep: [1, 2, 3, 4], remove: [] },
    ]);
    expect(() => planPrune(versions, 0, 1)).toThrow(/--keep must be a whole number >= 1/);
  });
});

describe('prune', () => {
  beforeEach(async () => {
    await loadTrades(db);
    for (const version of [1, 2, 3, 4]) await runFullRebuild(db, { version });
    // A late trade: every registered version gets a pending change.
    await insertBotTrades(db.pool, [
      {
        order_id: 'late',
        symbol: 'AAA-USD',
        side: 'buy',
        order_time: '2025-03-01T05:00:00Z',
        price: '9',
        size: '1',
      },
    ]);
  });

  it("deletes the other versions' allocations, lots, progress, changes and registration, and nothing else", async () => {
    // Prepare
    const before = await withClient(db.pool, (c) => listVersions(c));
    const { rows: log } = await db.pool.query('SELECT count(*)::int AS n FROM fifo_computation_log');

    // Act
    const dry = await pruneVersions(db, { keep: 2, active: 2, dryRun: true });
    const afterDry = await withClient(db.pool, (c) => listVersions(c));
    const done = await pruneVersions(db, { keep: 2, active: 2 });
    const after = await withClient(db.pool, (c) => listVersions(c));

    // Assess
    expect(
      before.map((v) => [v.version, v.allocations, v.lots, v.progress, v.changes, v.registered]),
    ).toEqual([
      [1, 4, 1, 1, 1, true],
      [2, 4, 1, 1, 1, true],
      [3, 4, 1, 1, 1, true],
      [4, 4, 1, 1, 1, true],
    ]);
    expect(dry.deleted.map((v) => v.version)).toEqual([1, 3]);
    expect(dry.kept.map((v) => v.version)).toEqual([2, 4]);
    expect(afterDry).toEqual(before);
    expect(done.deleted.map((v) => v.version)).toEqual([1, 3]);
    expect(after).toEqual(before.filter((v) => v.version === 2 || v.version === 4));
    const { rows: logAfter } = await db.pool.query('SELECT count(*)::int AS n FROM fifo_computation_log');
    expect(logAfter[0].n).toBe(log[0].n);
  });

  it('refuses when the active version holds nothing, deleting nothing', async () => {
    // Why: a wrong FIFO_ALLOCATION_VERSION would otherwise prune the version actually in use.
    // Prepare
    const before = await withClient(db.pool, (c) => listVersions(c));

    // Act
    const outcome = pruneVersions(db, { keep: 1, active: 9 });

    // Assess
    await expect(outcome).rejects.toThrow(/refusing to prune: the active version 9 holds nothing/);
    expect(await withClient(db.pool, (c) => listVersions(c))).toEqual(before);
  });

  it('warns about views that read a version it deletes', async () => {
    // Why: the bot's views read version 2 by number; pruning it empties them without an error.
    // Prepare
    await db.pool.query(
      'CREATE VIEW v_old_version AS SELECT * FROM fifo_allocations WHERE allocation_version = 1',
    );
    try {
      // Act
      const dry = await pruneVersions(db, { keep: 1, active: 4, dryRun: true });

      // Assess
      expect(dry.warnings).toEqual([expect.stringMatching(/^view v_old_version reads version 1: /)]);
    } finally {
      await db.pool.query('DROP VIEW v_old_version');
    }
  });

  it('refuses while a run of a version to delete holds its lock', { tags: 'server' }, async () => {
    // Why: deleting a version under a running job would leave it half-written. Needs a second session.
    // Prepare
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    await other.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, 3]);
    const before = await withClient(db.pool, (c) => listVersions(c));
    try {
      // Act
      const outcome = pruneVersions(db, { keep: 1, active: 4 });

      // Assess
      await expect(outcome).rejects.toThrow(/a run of version 3 is in progress/);
      expect(await withClient(db.pool, (c) => listVersions(c))).toEqual(before);
    } finally {
      await other.end();
    }
  });
});
