/**
 * Tax year to date (shared/report/tax-ytd.ts) against hand-computed figures, on a real
 * database: trades in, full rebuild, report model out. Zone America/New_York; the report ends
 * at NOW, 2026-11-20T17:00Z = 12:00 local, report date 2026-11-20, year from 2026-01-01.
 *
 *   AAA b 2025-10-15 1 @ 100, s 2026-11-20 1 @ 150        held 13 months: long-term +50
 *   BBB b 2026-09-20 2 @ 50,  s 2026-11-19 2 @ 40         held 2 months: short-term -20
 *   DDD s 2026-03-01 1 @ 7, no lot                        unmatched, in neither term
 *   JJJ b 2025-06-01 1 @ 10,  s 2026-01-01T03:00Z @ 30    2025-12-31 in New York: not this year
 *   KKK b 2026-11-01 1 @ 10,  s 2026-11-25 @ 30           after the report's end: not counted
 *   CCC b 2025-12-05 3 @ 20 fee 0.3, open (cost 60.3)     anniversary 2026-12-05: long-term from
 *                                                         2026-12-06, within 30 days; mark 25
 *                                                         (price table): 75 - 60.3 = +14.70
 *   EEE b 2026-06-01 1 @ 5, open                          turns long-term in 2027: not listed
 *   GGG b 2025-06-01 1 @ 5, open                          long-term already: not listed
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { DEFAULT_SETTINGS } from '../../shared/report/config.ts';
import { buildReportModel, renderHtml, renderText } from '../../shared/report/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type BotTrade, insertBotTrades } from '../support/fixtures.ts';

const NOW = new Date('2026-11-20T17:00:00Z');
const timeZone = 'America/New_York';

const t = (
  order_id: string,
  symbol: string,
  side: string,
  order_time: string,
  size: string,
  price: string,
  fee = '0',
): BotTrade => ({
  order_id,
  symbol,
  side,
  order_time,
  size,
  price,
  fee,
});

const TRADES: BotTrade[] = [
  t('a1', 'AAA-USD', 'buy', '2025-10-15T15:00:00Z', '1', '100'),
  t('a2', 'AAA-USD', 'sell', '2026-11-20T15:00:00Z', '1', '150'),
  t('b1', 'BBB-USD', 'buy', '2026-09-20T15:00:00Z', '2', '50'),
  t('b2', 'BBB-USD', 'sell', '2026-11-19T15:00:00Z', '2', '40'),
  t('d1', 'DDD-USD', 'sell', '2026-03-01T15:00:00Z', '1', '7'),
  t('j1', 'JJJ-USD', 'buy', '2025-06-01T15:00:00Z', '1', '10'),
  t('j2', 'JJJ-USD', 'sell', '2026-01-01T03:00:00Z', '1', '30'),
  t('k1', 'KKK-USD', 'buy', '2026-11-01T15:00:00Z', '1', '10'),
  t('k2', 'KKK-USD', 'sell', '2026-11-25T15:00:00Z', '1', '30'),
  t('c1', 'CCC-USD', 'buy', '2025-12-05T15:00:00Z', '3', '20', '0.3'),
  t('e1', 'EEE-USD', 'buy', '2026-06-01T15:00:00Z', '1', '5'),
  t('g1', 'GGG-USD', 'buy', '2025-06-01T15:00:00Z', '1', '5'),
];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await insertBotTrades(db.pool, TRADES);
  await db.pool.query(`CREATE TABLE prices (symbol text, price numeric, as_of timestamptz)`);
  await db.pool.query(`INSERT INTO prices VALUES ('CCC-USD', 25, '2026-11-20T16:00:00Z')`);
  await runFullRebuild(db, { version: 1 });
});
afterAll(async () => {
  await db?.drop();
});

const model = () =>
  buildReportModel(db, {
    version: 1,
    now: NOW,
    timeZone,
    settings: { ...DEFAULT_SETTINGS, priceTable: 'prices' },
  });

describe('tax year to date', () => {
  it('splits the local year realized PnL by term and lists the lots turning long-term', async () => {
    // Why: the year's tax picture depends on the IRS holding period on local dates, not on UTC.
    // Prepare
    // (TRADES, the price table and NOW, above)

    // Act
    const ty = (await model()).taxYtd;

    // Assess
    expect([ty.year, ty.from, ty.through, ty.timeZone]).toEqual([2026, '2026-01-01', '2026-11-20', timeZone]);
    expect(ty.longTerm).toEqual({ realizedPnl: '50', slices: 1 });
    expect(ty.shortTerm).toEqual({ realizedPnl: '-20', slices: 1 });
    expect(ty.unmatched.slices).toBe(1);
    expect(ty.turning.lots).toEqual([
      {
        buyOrderId: 'c1',
        symbol: 'CCC-USD',
        buyTime: '2025-12-05T15:00:00.000000Z',
        acquired: '2025-12-05',
        longTermFrom: '2026-12-06',
        remainingSize: '3',
        remainingCost: '60.3',
        mark: '25',
        unrealizedPnl: '14.7',
      },
    ]);
    expect(ty.turning).toMatchObject({ days: 30, unrealizedPnl: '14.7', marked: 1, unmarked: 0 });
  });

  it('shows the section in the text and the HTML', async () => {
    // Prepare
    const m = await model();

    // Act
    const text = renderText(m);
    const html = renderHtml(m);

    // Assess
    expect(text).toContain('TAX YEAR TO DATE (2026-01-01 to 2026-11-20, America/New_York)');
    expect(html).toContain('Tax year to date');
    for (const body of [text.replace(/\s+/g, ' '), html]) {
      expect(body).toContain(
        '1 lot turns long-term within 30 days, unrealized gain +14.70 USD at the marks.',
      );
    }
    expect(text).toMatch(/Short-term\s+-20\.00\s+1/);
    expect(text).toMatch(/Long-term\s+\+50\.00\s+1/);
  });
});
