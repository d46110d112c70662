/** `fifo legacy archive` / `restore`: the deprecated PnL columns leave and come back, bit for bit. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { archiveLegacy, LegacyError, restoreLegacy } from '../../shared/legacy/archive.ts';
import { createBotSchema, EDGE_FLOAT8 } from '../support/bot-schema.ts';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';
import { legacyBytes, pendingChanges, withClient } from './support.ts';

const FLOATS = ['realized_profit', 'pnl_usd', 'cost_basis_usd', 'sale_proceeds_usd', 'net_sale_proceeds_usd'];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/**
 * Ten trades e0..e9 whose five float8 legacy columns hold every edge value (column j of row i
 * gets EDGE_FLOAT8[(i + j) % 10]), a parent_id on the even ones, and one trade with none.
 */
beforeEach(async () => {
  await db.pool.query('TRUNCATE trade_records, fifo_legacy_pnl_archive, fifo_trade_changes, fifo_versions');
  const rows = EDGE_FLOAT8.map((_, i) => {
    const values = FLOATS.map((_, j) => EDGE_FLOAT8[(i + j) % EDGE_FLOAT8.length]);
    return `('e${i}', 'AAA-USD', 'sell', '2025-01-01T00:00:0${i}Z', 10, 1, '{}', ${i % 2 === 0 ? `'p-${i}'` : 'NULL'}, ${values.join(', ')})`;
  });
  await db.pool.query(
    `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, "trigger", parent_id, ${FLOATS.join(', ')})
     VALUES ${rows.join(',\n')},
            ('plain', 'AAA-USD', 'buy', '2024-12-31T00:00:00Z', 9, 2, '{}', NULL, NULL, NULL, NULL, NULL, NULL)`,
  );
  // Change capture records changes for registered versions only: register one, so it is live.
  await db.pool.query('INSERT INTO fifo_versions (allocation_version) VALUES (1)');
});

const live = () => withClient(db.pool, (c) => legacyBytes(c));
const archived = () => withClient(db.pool, (c) => legacyBytes(c, 'fifo_legacy_pnl_archive'));
const archive = () => withClient(db.pool, (c) => archiveLegacy(c));
const restore = () => withClient(db.pool, (c) => restoreLegacy(c));
const legacyValuesLeft = async () =>
  Number(
    (
      await db.pool.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM trade_records WHERE coalesce(${FLOATS.join(', ')}) IS NOT NULL OR parent_id IS NOT NULL`,
      )
    ).rows[0]!.n,
  );

describe('legacy archive and restore', () => {
  it('round-trips every value bit for bit, edge float8 values included', async () => {
    // Prepare
    const before = await live();

    // Act
    const archivedResult = await archive();
    const inArchive = await archived();
    const left = await legacyValuesLeft();
    const restored = await restore();
    const after = await live();

    // Assess
    expect(archivedResult).toMatchObject({
      archivedRows: 10,
      clearedRows: 10,
      conflicts: 0,
      archiveRows: 10,
    });
    expect(archivedResult.values).toEqual({
      realized_profit: 10,
      pnl_usd: 10,
      cost_basis_usd: 10,
      sale_proceeds_usd: 10,
      net_sale_proceeds_usd: 10,
      parent_id: 5,
    });
    expect(left).toBe(0);
    expect(inArchive).toEqual(before.filter((r) => r.order_id !== 'plain'));
    expect(restored).toMatchObject({ restoredRows: 10, conflicts: 0, orphans: 0, notRestorable: {} });
    expect(after).toEqual(before);
    // The edge values really are there, as their exact bytes and shortest exact text.
    const e0 = after.find((r) => r.order_id === 'e0')!;
    expect(e0.realized_profit_text).toBe('0.30000000000000004');
    expect(e0.cost_basis_usd_bytes).toBe('8000000000000000'); // -0
    expect(e0.sale_proceeds_usd_bytes).toBe('0000000000000001'); // 5e-324
    expect(e0.net_sale_proceeds_usd_text).toBe('1.7976931348623157e+308');
    expect(after.find((r) => r.order_id === 'e6')!.pnl_usd_text).toBe('NaN');
    expect(after.find((r) => r.order_id === 'e7')!.pnl_usd_text).toBe('Infinity');
  });

  it('is idempotent: a second archive moves nothing and leaves the archived values as they were', async () => {
    // Why: an operator re-runs a step after a timeout; a NULL must never overwrite an archived value.
    // Prepare
    await archive();
    const firstArchive = await archived();
    const { rows: stamps } = await db.pool.query(
      'SELECT order_id, archived_at FROM fifo_legacy_pnl_archive ORDER BY 1',
    );

    // Act
    const second = await archive();

    // Assess
    expect(second).toMatchObject({ archivedRows: 0, clearedRows: 0, conflicts: 0, archiveRows: 10 });
    expect(await archived()).toEqual(firstArchive);
    expect(
      (await db.pool.query('SELECT order_id, archived_at FROM fifo_legacy_pnl_archive ORDER BY 1')).rows,
    ).toEqual(stamps);
  });

  it('records no trade change: the columns are none that change capture reads', async () => {
    // Why: archiving millions of rows must not make the next incremental run replay every symbol.
    // Prepare
    const before = await pendingChanges(db.pool);

    // Act
    await archive();
    await restore();
    await archive();
    const after = await pendingChanges(db.pool);

    // Assess: capture is live (a price correction is recorded), archive and restore are not.
    expect(before).toBe(0);
    expect(after).toBe(0);
    await db.pool.query(`UPDATE trade_records SET price = 11 WHERE order_id = 'e1'`);
    expect(await pendingChanges(db.pool)).toBe(2);
  });

  it('restores only where the live value is NULL and reports a live value that differs', async () => {
    // Why: a value written since the archive (the bot, an operator) is newer than the archive: restore keeps it.
    // Prepare
    const before = await live();
    await archive();
    await db.pool.query(`UPDATE trade_records SET pnl_usd = 42 WHERE order_id = 'e1'`);

    // Act
    const result = await restore();
    const after = await live();

    // Assess
    expect(result).toMatchObject({ restoredRows: 10, conflicts: 1, conflictSample: ['e1'] });
    expect(result.values.pnl_usd).toBe(9);
    const e1 = after.find((r) => r.order_id === 'e1')!;
    expect(e1.pnl_usd_text).toBe('42');
    const { pnl_usd_bytes: _b, pnl_usd_text: _t, ...e1Others } = e1;
    const {
      pnl_usd_bytes: _b0,
      pnl_usd_text: _t0,
      ...e1OthersBefore
    } = before.find((r) => r.order_id === 'e1')!;
    expect(e1Others).toEqual(e1OthersBefore);
    expect(after.filter((r) => r.order_id !== 'e1')).toEqual(before.filter((r) => r.order_id !== 'e1'));
  });

  it('leaves a row live when its value differs from the one archived earlier, and says so', async () => {
    // Why: archiving again after a restore must not replace the first archived value, nor drop the new one.
    // Prepare
    const original = await live();
    await archive();
    const firstArchive = await archived();
    await restore();
    await db.pool.query(`UPDATE trade_records SET pnl_usd = 7 WHERE order_id = 'e2'`);

    // Act
    const result = await archive();

    // Assess
    expect(result).toMatchObject({ clearedRows: 9, conflicts: 1, conflictSample: ['e2'] });
    expect(await archived()).toEqual(firstArchive);
    const e2 = (await live()).find((r) => r.order_id === 'e2')!;
    expect(e2.pnl_usd_text).toBe('7');
    expect(e2.realized_profit_bytes).toBe(original.find((r) => r.order_id === 'e2')!.realized_profit_bytes);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM fifo_legacy_pnl_archive WHERE restored_at IS NULL`,
    );
    expect(rows[0].n).toBe(9);
  });

  it('archives only the columns that exist, and keeps values whose column is gone when restoring', async () => {
    // Prepare
    await db.pool.query('ALTER TABLE trade_records DROP COLUMN realized_profit, DROP COLUMN parent_id');
    try {
      // Act
      const result = await archive();
      await db.pool.query('ALTER TABLE trade_records DROP COLUMN pnl_usd');
      const restored = await restore();

      // Assess
      expect(result.columns).toEqual([
        'pnl_usd',
        'cost_basis_usd',
        'sale_proceeds_usd',
        'net_sale_proceeds_usd',
      ]);
      expect(result.absentColumns).toEqual(['realized_profit', 'parent_id']);
      expect(result.clearedRows).toBe(10);
      expect(restored.columns).toEqual(['cost_basis_usd', 'sale_proceeds_usd', 'net_sale_proceeds_usd']);
      expect(restored.notRestorable).toEqual({ pnl_usd: 10 });
      expect(restored.restoredRows).toBe(10);
    } finally {
      await db.pool.query(
        `ALTER TABLE trade_records ADD COLUMN IF NOT EXISTS realized_profit double precision,
           ADD COLUMN IF NOT EXISTS parent_id varchar, ADD COLUMN IF NOT EXISTS pnl_usd double precision`,
      );
    }
  });

  it('keeps archived values of a trade deleted since, and counts them', async () => {
    // Why: cancelled trades are deleted from trade_records; their archived values must not vanish with them.
    // Prepare
    await archive();
    await db.pool.query(`DELETE FROM trade_records WHERE order_id = 'e4'`);

    // Act
    const result = await restore();

    // Assess
    expect(result).toMatchObject({ restoredRows: 9, orphans: 1, archiveRows: 10 });
  });

  it('is all or nothing: when the archive write fails, no live value is cleared', async () => {
    // Prepare
    const before = await live();
    await db.pool.query(
      `CREATE FUNCTION fail_archive() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.order_id = 'e7' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$;
       CREATE TRIGGER fail_archive BEFORE INSERT ON fifo_legacy_pnl_archive FOR EACH ROW EXECUTE FUNCTION fail_archive()`,
    );
    try {
      // Act
      const outcome = archive();

      // Assess
      await expect(outcome).rejects.toThrow(/disk full/);
      expect(await live()).toEqual(before);
      expect(await archived()).toEqual([]);
    } finally {
      await db.pool.query(
        'DROP TRIGGER fail_archive ON fifo_legacy_pnl_archive; DROP FUNCTION fail_archive()',
      );
    }
  });

  it('refuses a column type the archive cannot hold exactly, changing nothing', async () => {
    // Why: a numeric legacy column copied into float8 would lose digits; better refuse than round.
    // Prepare
    const before = await live();
    await db.pool.query(
      'ALTER TABLE trade_records ALTER COLUMN net_sale_proceeds_usd TYPE numeric USING NULL',
    );
    try {
      // Act
      const outcome = archive();

      // Assess
      await expect(outcome).rejects.toThrow(LegacyError);
      await expect(archive()).rejects.toThrow(/net_sale_proceeds_usd \(numeric\).*nothing was changed/);
      const after = await live();
      expect(after.map((r) => r.pnl_usd_bytes)).toEqual(before.map((r) => r.pnl_usd_bytes));
    } finally {
      await db.pool.query(
        'ALTER TABLE trade_records ALTER COLUMN net_sale_proceeds_usd TYPE double precision USING NULL',
      );
    }
  });
});

describe('legacy archive before migrate', () => {
  it('refuses with the step to take: the archive table comes with migration 0004', async () => {
    // Why: the first command an operator may try on the bot database is this one.
    // Prepare
    const bot = await createEmptyDatabase();
    try {
      await createBotSchema(bot.pool);

      // Act
      const outcome = withClient(bot.pool, (c) => archiveLegacy(c));

      // Assess
      await expect(outcome).rejects.toThrow(
        /fifo_legacy_pnl_archive does not exist: run "fifo migrate" first/,
      );
      const { rows } = await bot.pool.query(
        'SELECT count(*)::int AS n FROM trade_records WHERE pnl_usd IS NOT NULL',
      );
      expect(rows[0].n).toBe(2);
    } finally {
      await bot.drop();
    }
  });
});
