/** `fifo reconcile`: legacy vs FIFO PnL per sell, from the live columns or the archive. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { archiveLegacy, restoreLegacy } from '../../shared/legacy/archive.ts';
import { compareLegacyPnl, reconcileLegacy } from '../../shared/legacy/legacy-vs-fifo.ts';
import { buildReportModel } from '../../shared/report/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type BotTrade, insertBotTrades } from '../support/fixtures.ts';
import { withClient } from './support.ts';

/**
 * One buy of 10 @ 10 at T0, then sells s01..s13 of 0.5 @ 12 at T0 + i hours: FIFO pnl +1 each.
 * Legacy: s01..s11 pnl_usd (10 - i) / 10, so they differ by i / 10; s12 only realized_profit
 * 1 (agrees); s13 NaN (no usable value). x-legacy is a sell with a legacy value that FIFO
 * never sees (status 'open' is not a fill).
 */
const T0 = Date.parse('2025-06-01T00:00:00Z');
const at = (hours: number) => new Date(T0 + hours * 3_600_000).toISOString();
const NOW = new Date(T0 + 13 * 3_600_000);
const sell = (i: number) => `s${String(i).padStart(2, '0')}`;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  const trades: BotTrade[] = [
    { order_id: 'b1', symbol: 'AAA-USD', side: 'buy', order_time: at(0), price: '10', size: '10' },
    ...Array.from({ length: 13 }, (_, k) => ({
      order_id: sell(k + 1),
      symbol: 'AAA-USD',
      side: 'sell',
      order_time: at(k + 1),
      price: '12',
      size: '0.5',
    })),
    {
      order_id: 'x-legacy',
      symbol: 'AAA-USD',
      side: 'sell',
      order_time: at(5),
      price: '12',
      size: '1',
      status: 'open',
    },
  ];
  await insertBotTrades(db.pool, trades);
  await db.pool.query(
    `UPDATE trade_records t SET pnl_usd = v.p::double precision
     FROM unnest($1::text[], $2::text[]) AS v(id, p) WHERE t.order_id = v.id`,
    [
      [...Array.from({ length: 11 }, (_, k) => sell(k + 1)), 's13', 'x-legacy'],
      [...Array.from({ length: 11 }, (_, k) => String((10 - (k + 1)) / 10)), 'NaN', '-3'],
    ],
  );
  await db.pool.query(`UPDATE trade_records SET realized_profit = 1 WHERE order_id = 's12'`);
  await runFullRebuild(db, { version: 1 });
});
afterAll(async () => {
  await db?.drop();
});

const reconcile = (hours?: number) =>
  withClient(db.pool, (c) => reconcileLegacy(c, { version: 1, hours, now: NOW }));
const strip = <T extends { source: string }>(rows: T[]) => rows.map(({ source: _s, ...r }) => r);

describe('reconcile from the live columns', () => {
  it('gives the discrepancy table, the exact total difference and the ten biggest offenders', async () => {
    // Why: this is the seed plan's evidence that the inline PnL was wrong, sell by sell.
    // Prepare: the trades above

    // Act
    const r = await reconcile();

    // Assess
    expect(r.window).toEqual({ start: null, end: NOW.toISOString(), hours: null });
    expect(r.columns).toEqual(['pnl_usd', 'realized_profit']);
    expect(r.rows.length).toBe(12);
    expect(r).toMatchObject({ withoutLegacy: 1, differing: 11, fromLive: 12, fromArchive: 0 });
    expect(r.fifoTotal).toBe('12');
    expect(r.legacyTotal).toBe('5.4'); // 0.9 + 0.8 + ... + 0 - 0.1 + 1
    expect(r.totalDifference).toBe('6.6');
    expect(r.table.map((x) => x.sellOrderId)).toEqual(Array.from({ length: 12 }, (_, k) => sell(k + 1)));
    expect(r.offenders.map((x) => [x.sellOrderId, x.difference])).toEqual(
      Array.from({ length: 10 }, (_, k) => [sell(11 - k), String((11 - k) / 10)]),
    );
    expect(r.table.find((x) => x.sellOrderId === 's12')).toMatchObject({ legacyPnl: '1', difference: '0' });
    expect(r.legacyWithoutFifo).toEqual({ count: 1, sample: ['x-legacy'] });
  });

  it('limits itself to the window: start < sell time <= end', async () => {
    // Why: --hours N answers "what did the inline code get wrong yesterday".
    // Prepare: sells at T0 + 1 h ... T0 + 13 h, the window's end at T0 + 13 h

    // Act
    const r = await reconcile(3);

    // Assess
    expect(r.window.hours).toBe(3);
    expect(r.table.map((x) => x.sellOrderId)).toEqual(['s11', 's12']);
    expect(r.withoutLegacy).toBe(1);
    expect(r.totalDifference).toBe('1.1');
    expect(r.legacyWithoutFifo.count).toBe(0);
  });

  it('is the comparison the daily report shows', async () => {
    // Why: one implementation: the report and the command must never disagree.
    // Prepare
    const r = await reconcile(24);

    // Act
    const model = await buildReportModel(db, { version: 1, now: NOW, hours: 24 });

    // Assess
    expect(model.legacy).toEqual({
      columns: r.columns,
      rows: strip(r.rows),
      withoutLegacy: r.withoutLegacy,
      legacyTotal: r.legacyTotal,
      fifoTotal: r.fifoTotal,
      totalDifference: r.totalDifference,
    });
  });
});

describe('reconcile after the legacy archive', () => {
  it('reads the archived values, with the same figures, even once the columns are dropped', async () => {
    // Why: after the cut-over the live columns are NULL or gone; the evidence must survive them.
    // Prepare
    const live = await reconcile();
    await withClient(db.pool, (c) => archiveLegacy(c));
    try {
      // Act
      const archived = await reconcile();
      await db.pool.query('ALTER TABLE trade_records DROP COLUMN pnl_usd, DROP COLUMN realized_profit');
      const dropped = await reconcile();
      const withoutArchive = await withClient(db.pool, (c) =>
        compareLegacyPnl(c, { version: 1, start: '-infinity', end: NOW.toISOString() }),
      );

      // Assess
      expect(archived).toMatchObject({ fromLive: 0, fromArchive: 12, archive: true });
      expect(strip(archived.rows)).toEqual(strip(live.rows));
      expect(archived.rows.every((x) => x.source === 'archive')).toBe(true);
      for (const key of [
        'legacyTotal',
        'fifoTotal',
        'totalDifference',
        'withoutLegacy',
        'legacyWithoutFifo',
      ] as const) {
        expect(archived[key]).toEqual(live[key]);
        expect(dropped[key]).toEqual(live[key]);
      }
      expect(dropped.columns).toEqual([]);
      expect(withoutArchive).toBeNull();
    } finally {
      await db.pool.query(
        `ALTER TABLE trade_records ADD COLUMN IF NOT EXISTS pnl_usd double precision,
           ADD COLUMN IF NOT EXISTS realized_profit double precision`,
      );
      await withClient(db.pool, (c) => restoreLegacy(c));
    }
    expect((await reconcile()).fromLive).toBe(12);
  });
});
