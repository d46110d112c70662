/**
 * The tax report on a real schema (README, "Tax lots"): generated trades over two calendar
 * years, plus a lot held long-term and a sale on New Year's Eve in New York, fully rebuilt.
 * In three zones, Σ gain of each year equals the daily report's own realized PnL over that
 * year's window (buildReportModel, with `now` at the year's end and `hours` covering the year),
 * and the rows equal the allocations one for one: those of the report's window, and those
 * PostgreSQL itself dates in the year (AT TIME ZONE, its own tz data, an independent check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { buildReportModel } from '../../shared/report/index.ts';
import { generateTrades, type SampleTrade } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import {
  formatAmount,
  parseAmount,
  readTaxReport,
  type TaxReport,
  taxPeriod,
} from '../../shared/tax/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const ZONES = ['UTC', 'America/New_York', 'Asia/Tokyo'] as const;
const YEARS = [2023, 2024, 2025] as const;

const hand = (
  order_id: string,
  side: 'buy' | 'sell',
  order_time: string,
  size: string,
  price: string,
  fee: string,
) => ({ order_id, symbol: 'LONG-USD', side, order_time, size, price, fee }) satisfies SampleTrade;

/**
 * Held 2023-01-10 to 2024-02-01 (long), and sold at 23:30 on 2024-12-31 in New York. All in the
 * past: the trade source rejects a trade dated more than a day after the database clock.
 */
const HAND_TRADES: SampleTrade[] = [
  hand('long-buy', 'buy', '2023-01-10T15:00:00Z', '2', '100', '1'),
  hand('long-sell', 'sell', '2024-02-01T15:00:00Z', '1', '150', '0.5'),
  hand('nye-sell', 'sell', '2025-01-01T04:30:00Z', '0.5', '160', '0.25'),
  hand('over-sell', 'sell', '2025-02-01T15:00:00Z', '1', '170', '0'),
];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  // About 4 h 7 min apart from 2023-06-01: some 514 days over 2023 and 2024, never on a midnight.
  const sample = [
    ...generateTrades({
      trades: 3000,
      symbols: 4,
      seed: 7,
      start: '2023-06-01T00:00:00Z',
      spacingSeconds: 14_820,
    }),
  ];
  await insertTrades(db.pool, [...sample, ...HAND_TRADES]);
  await runFullRebuild(db, { version: 1 });
}, 120_000);
afterAll(async () => {
  await db?.drop();
});

const report = (year: number, timeZone: string): Promise<TaxReport> =>
  readTaxReport(db.pool, { year, timeZone, version: 1, brokerReporting: 'custodial', unmatched: 'flag' });

const keys = (rows: readonly { sellOrderId: string; buyOrderId: string | null }[]) =>
  rows.map((r) => `${r.sellOrderId}/${r.buyOrderId ?? ''}`).sort();

describe.each(ZONES)('in %s', (timeZone) => {
  it.each([2023, 2024])(
    'Σ gain of %i equals the daily report realized PnL over that year, with the same rows',
    async (year) => {
      // Why: the tax totals and the daily report must be the same money, read the same way.
      // Prepare
      const { startUtc, endUtc } = taxPeriod(year, timeZone);
      const { rows: atBoundary } = await db.pool.query(
        `SELECT 1 FROM fifo_allocations WHERE sell_time IN ($1::timestamptz, $2::timestamptz)`,
        [startUtc, endUtc],
      );
      expect(atBoundary, 'the report window is (start, end], the tax year [start, end)').toEqual([]);
      const hours = (Date.parse(endUtc) - Date.parse(startUtc)) / 3_600_000;

      // Act
      const tax = await report(year, timeZone);
      const model = await buildReportModel(db, { version: 1, now: new Date(endUtc), hours, timeZone });

      // Assess
      expect(tax.rows.length).toBeGreaterThan(100);
      expect(formatAmount(tax.totals.all.gain)).toBe(formatAmount(parseAmount(model.metrics.realizedPnl)));
      expect(keys(tax.rows)).toEqual(
        model.allocations.map((a) => `${a.sell_order_id}/${a.buy_order_id ?? ''}`).sort(),
      );
      expect(tax.totals.missingBasis.sells).toBe(model.metrics.unmatched);
    },
  );

  it('dates every allocation in exactly one year, the one PostgreSQL dates it in', async () => {
    // Why: the rows must equal the allocations one for one: none lost or doubled at a year boundary.
    // Prepare
    const { rows: all } = await db.pool.query<{ key: string; year: number }>(
      `SELECT sell_order_id || '/' || coalesce(buy_order_id, '') AS key,
              extract(year FROM sell_time AT TIME ZONE $1)::int AS year
       FROM fifo_allocations WHERE allocation_version = 1`,
      [timeZone],
    );

    // Act
    const reports = await Promise.all(YEARS.map((year) => report(year, timeZone)));

    // Assess
    for (const [i, year] of YEARS.entries()) {
      expect(keys(reports[i]!.rows), `${year}`).toEqual(
        all
          .filter((a) => a.year === year)
          .map((a) => a.key)
          .sort(),
      );
    }
    expect(reports.reduce((n, r) => n + r.rows.length, 0)).toBe(all.length);
  });
});

describe('the hand-made lot', () => {
  it('is long-term in box F and its New Year’s Eve sale belongs to 2024 in New York, 2025 (box K) in UTC', async () => {
    // Why: the rules end to end through the SQL: more than a year held, local calendar years, and
    // the boxes of each era (C/F before 2025, G-L from 2025).
    // Prepare
    const find = (r: TaxReport, id: string, matched = true) =>
      r.rows.find((row) => row.sellOrderId === id && (row.buyOrderId !== null) === matched);

    // Act
    const [newYork2024, utc2024, utc2025] = await Promise.all([
      report(2024, 'America/New_York'),
      report(2024, 'UTC'),
      report(2025, 'UTC'),
    ]);

    // Assess
    expect(find(newYork2024, 'long-sell')).toMatchObject({ term: 'long', box: 'F', daysHeld: 387 });
    expect(formatAmount(find(newYork2024, 'long-sell')!.gain!)).toBe('49');
    expect(find(newYork2024, 'nye-sell')).toMatchObject({ term: 'long', box: 'F' });
    expect(find(utc2024, 'nye-sell')).toBeUndefined();
    expect(find(utc2025, 'nye-sell')).toMatchObject({ term: 'long', box: 'K' });
    expect(find(utc2025, 'over-sell', false)).toMatchObject({
      flag: 'MISSING BASIS',
      costBasis: null,
      box: null,
    });
  });
});
