/** The report's figures against the hand-computed fixture in ./fixtures.ts, on a real schema. */
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { buildReportModel, runDailyReport } from '../../shared/report/index.ts';
import { generateTrades } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { loadFixture, NOW, resetTables } from './fixtures.ts';

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

async function fixtureModel(options: { timeZone?: string; now?: Date; hours?: number } = {}) {
  await loadFixture(db.pool);
  await runFullRebuild(db, { version: 1 });
  return buildReportModel(db, { version: 1, now: NOW, ...options });
}

describe('key metrics', () => {
  it('match the hand-computed figures of the fixture', async () => {
    // Prepare
    // (the fixture, see fixtures.ts)

    // Act
    const model = await fixtureModel();

    // Assess
    expect(model.metrics).toMatchObject({
      sells: 5,
      wins: 1,
      losses: 1,
      breakeven: 1,
      unmatched: 2,
      realizedPnl: '-1.37',
      grossProfit: '9.75',
      grossLoss: '-13',
      unmatchedSellsPnl: '1.88',
      buyFees: '2',
      sellFees: '1.54',
      fees: '3.54',
      winRate: 0.5,
      averageWin: '9.75',
      averageLoss: '-13',
      profitFactor: '0.75',
      // (9.75 - 13 + 0) / 3 counted sells
      expectancy: '-1.08333333',
    });
    expect(model.allTime).toEqual({ realizedPnl: '12.13', sells: 7 });
  });

  it('counts a sell exactly at the window start out and one exactly at the end in', async () => {
    // Why: back-to-back daily reports must count each sell once (start < sell_time <= end).
    // Prepare
    // s1 sells at the window start, s4 at its end.

    // Act
    const model = await fixtureModel();
    const earlier = await buildReportModel(db, { version: 1, now: new Date(model.window.start) });

    // Assess
    const sellsIn = (m: typeof model) => [...new Set(m.allocations.map((a) => a.sell_order_id))].sort();
    expect(model.window).toMatchObject({
      start: '2024-03-10T00:00:00.000Z',
      end: '2024-03-11T00:00:00.000Z',
    });
    expect(sellsIn(model)).toEqual(['s2', 's3', 's4', 's5', 's6']);
    expect(sellsIn(earlier)).toEqual(['s1']);
  });

  it('treats a sell with PnL exactly 0 as breakeven, outside the win-rate denominator', async () => {
    // Why: the email states this rule; 1 win, 1 loss and 1 breakeven must give 50%, not 33%.
    // Prepare
    // s3 realizes exactly 0.

    // Act
    const model = await fixtureModel();

    // Assess
    const aaa = model.bySymbol.find((s) => s.symbol === 'AAA-USD')!;
    expect(aaa).toMatchObject({ sells: 3, wins: 1, losses: 1, breakeven: 1, unmatched: 0, winRate: 0.5 });
    expect(model.allocations.find((a) => a.sell_order_id === 's3')?.pnl_usd).toBe('0');
  });

  it('leaves sells with an unmatched remainder out of the win rate and lists them with size and proceeds', async () => {
    // Why: a sell without cost basis is no result; hiding it or counting it as a win would mislead.
    // Prepare
    // s5 has no lot at all; s6 finds a lot for 1 of its 2 units.

    // Act
    const model = await fixtureModel();

    // Assess
    const bbb = model.bySymbol.find((s) => s.symbol === 'BBB-USD')!;
    expect(bbb).toMatchObject({
      sells: 2,
      wins: 0,
      losses: 0,
      unmatched: 2,
      winRate: null,
      realizedPnl: '1.88',
      fees: '0.54',
      profitFactor: null,
      profitFactorNote: 'no results',
    });
    expect(
      model.unmatchedSells.map((u) => [
        u.sellOrderId,
        u.unmatchedSize,
        u.sellSize,
        u.proceeds,
        u.netProceeds,
        u.sellTime,
      ]),
    ).toEqual([
      ['s5', '3', '3', '30', '29.7', '2024-03-10T10:00:00.000000Z'],
      ['s6', '1', '2', '12', '11.88', '2024-03-10T12:00:00.000000Z'],
    ]);
    expect(model.health.verdict).toBe('WARNING');
    expect(model.health.reasons.map((r) => r.text)).toContain(
      '2 sells in the window had no open lot for part or all of it',
    );
  });

  it('sorts symbols by realized PnL and lists only symbols traded in the window', async () => {
    // Why: the per-symbol table is read top-down as best to worst; CCC had no trade in the window.
    // Prepare
    // (the fixture)

    // Act
    const model = await fixtureModel();

    // Assess
    expect(model.bySymbol.map((s) => [s.symbol, s.realizedPnl, s.fees])).toEqual([
      ['BBB-USD', '1.88', '0.54'],
      ['AAA-USD', '-3.25', '3'],
    ]);
  });
});

describe('the cumulative PnL chart', () => {
  it('buckets by calendar day in UTC', async () => {
    // Why: the day boundary decides which bar a sell lands in.
    // Prepare
    // s1, s2, s3, s6 fall on 2024-03-10 UTC; s4 at 2024-03-11 00:00 UTC; c3 on 2024-03-02.

    // Act
    const model = await fixtureModel({ timeZone: 'UTC' });

    // Assess
    const days = model.chart.days;
    expect(days).toHaveLength(30);
    expect(days[0]!.date).toBe('2024-02-11');
    expect(days.filter((d) => d.pnl !== '0')).toEqual([
      { date: '2024-03-02', pnl: '4.5', cumulative: '4.5', equity: null },
      { date: '2024-03-10', pnl: '20.63', cumulative: '25.13', equity: null },
      { date: '2024-03-11', pnl: '-13', cumulative: '12.13', equity: null },
    ]);
  });

  it('buckets by calendar day in America/New_York, across the DST change', async () => {
    // Why: the same sells fall on other days in New York (UTC-5 before 2024-03-10 07:00 UTC, then UTC-4).
    // Prepare
    // s1 (19:00 EST), s2 (22:00 EST), s3 (23:30 EST) are 2024-03-09 local; s6 (08:00 EDT) and
    // s4 (20:00 EDT) are 2024-03-10 local; c3 is 2024-03-01 19:00 EST.

    // Act
    const model = await fixtureModel({ timeZone: 'America/New_York' });

    // Assess
    const days = model.chart.days;
    expect(days).toHaveLength(30);
    expect([days[0]!.date, days.at(-1)!.date]).toEqual(['2024-02-10', '2024-03-10']);
    expect(days.filter((d) => d.pnl !== '0')).toEqual([
      { date: '2024-03-01', pnl: '4.5', cumulative: '4.5', equity: null },
      { date: '2024-03-09', pnl: '18.75', cumulative: '23.25', equity: null },
      { date: '2024-03-10', pnl: '-11.12', cumulative: '12.13', equity: null },
    ]);
    expect(model.window.date).toBe('2024-03-10');
  });
});

describe('open positions', () => {
  it('come from the open lots: size, cost basis, average cost and the age of the oldest lot', async () => {
    // Why: the operator checks what is still held and at what cost, fees included.
    // Prepare
    // CCC: c1 (2 of 3 units left, cost 101) and c2 (1 unit, cost 60) are open.

    // Act
    const model = await fixtureModel();

    // Assess
    expect(model.openPositions).toEqual([
      {
        symbol: 'CCC-USD',
        lots: 2,
        size: '3',
        costBasis: '161',
        averageCost: '53.666666666667',
        oldestLotTime: '2024-03-01T00:00:00.000000Z',
        oldestLotAgeSeconds: 10 * 86_400,
      },
    ]);
  });
});

describe('legacy reconciliation', () => {
  it('compares the legacy PnL column with FIFO per sell and totals the difference', async () => {
    // Why: this is how the operator sees what the bot's inline PnL got wrong.
    // Prepare
    await loadFixture(db.pool);
    await db.pool.query(`UPDATE trade_records SET pnl_usd = 9.75 WHERE order_id = 's2'`);
    await db.pool.query(`UPDATE trade_records SET pnl_usd = -16.45 WHERE order_id = 's4'`);
    await runFullRebuild(db, { version: 1 });

    // Act
    const model = await buildReportModel(db, { version: 1, now: NOW });

    // Assess
    expect(model.legacy).toEqual({
      columns: ['pnl_usd', 'realized_profit'],
      rows: [
        {
          sellOrderId: 's4',
          symbol: 'AAA-USD',
          sellTime: '2024-03-11T00:00:00.000000Z',
          legacyPnl: '-16.45',
          fifoPnl: '-13',
          difference: '3.45',
        },
        {
          sellOrderId: 's2',
          symbol: 'AAA-USD',
          sellTime: '2024-03-10T03:00:00.000000Z',
          legacyPnl: '9.75',
          fifoPnl: '9.75',
          difference: '0',
        },
      ],
      withoutLegacy: 3,
      legacyTotal: '-6.7',
      fifoTotal: '-3.25',
      totalDifference: '3.45',
    });
  });

  it('is left out when trade_records no longer has the legacy columns', async () => {
    // Why: the deprecated columns may have been dropped; nothing may depend on them.
    // Prepare
    await db.pool.query('ALTER TABLE trade_records DROP COLUMN pnl_usd, DROP COLUMN realized_profit');
    try {
      // Act
      const model = await fixtureModel();
      const report = await runDailyReport(db, { version: 1, now: NOW });

      // Assess
      expect(model.legacy).toBeNull();
      expect(report.text).not.toContain('LEGACY RECONCILIATION');
      expect(report.html).not.toContain('Legacy reconciliation');
    } finally {
      await db.pool.query(
        'ALTER TABLE trade_records ADD COLUMN pnl_usd double precision, ADD COLUMN realized_profit double precision',
      );
    }
  });
});

describe('an empty window', () => {
  it('reports zeros and "n/a" without failing, and the all-time figures still', async () => {
    // Why: a quiet day must still produce a readable email, not a division by zero.
    // Prepare
    const later = new Date('2024-04-30T00:00:00Z');

    // Act
    const model = await fixtureModel({ now: later });
    const report = await runDailyReport(db, { version: 1, now: later });

    // Assess
    expect(model.metrics).toMatchObject({
      sells: 0,
      realizedPnl: '0',
      fees: '0',
      winRate: null,
      averageWin: null,
      averageLoss: null,
      profitFactor: null,
    });
    expect(model.bySymbol).toEqual([]);
    expect(model.unmatchedSells).toEqual([]);
    expect(model.allocationsInWindow).toBe(0);
    expect(model.allTime.realizedPnl).toBe('12.13');
    // The running total is all time: 12.13 on every day of a chart that starts after the trades.
    expect(model.chart.days.every((d) => d.pnl === '0' && d.cumulative === '12.13')).toBe(true);
    expect(model.health.verdict).toBe('OK');
    // The header and CCC's open position; no allocation row.
    expect(
      report.csv
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('allocation,')),
    ).toEqual([]);
    expect(report.csv.trim().split('\n')).toHaveLength(2);
    expect(report.text).toContain('No trades in the window.');
  });
});

describe('realized PnL', () => {
  it('equals SUM(pnl_usd) over the window to the cent, in the model, the text and the subject', async () => {
    // Why: the headline figure must equal the allocations exactly, on a realistic sample, not a tidy one.
    // Prepare
    const trades = [...generateTrades({ trades: 1500, symbols: 4, seed: 11 })];
    await insertTrades(db.pool, trades);
    await runFullRebuild(db, { version: 1 });
    const now = new Date(Date.parse(trades.at(-1)!.order_time) - 3 * 3_600_000);
    const start = new Date(now.getTime() - 12 * 3_600_000);

    // Act
    const report = await runDailyReport(db, { version: 1, now, hours: 12 });

    // Assess
    const { rows } = await db.pool.query<{ exact: string; cents: string; n: string }>(
      `SELECT trim_scale(sum(pnl_usd))::text AS exact, to_char(round(sum(pnl_usd), 2), 'FM999999990.00') AS cents,
              count(*)::text AS n
       FROM fifo_allocations WHERE allocation_version = 1 AND sell_time > $1 AND sell_time <= $2`,
      [start.toISOString(), now.toISOString()],
    );
    const { exact, cents, n } = rows[0]!;
    expect(report.realizedPnlWindow).toBe(exact);
    const shown = (cents.startsWith('-') ? cents : `+${cents}`).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    expect(report.text).toMatch(new RegExp(`Realized PnL\\s+${shown.replace('+', '\\+')} USD`));
    expect(report.subject).toContain(`realized PnL ${shown} USD`);
    expect(report.allocationsInWindow).toBe(Number(n));
    expect(Number(n)).toBeGreaterThan(50);
    const perSymbol = report.model.bySymbol.reduce((sum, s) => sum.plus(s.realizedPnl), new Decimal(0));
    expect(perSymbol.toFixed()).toBe(new Decimal(exact).toFixed());
  });
});
