/**
 * The report's sections beyond the key metrics, against hand-computed fixtures (./fixtures.ts):
 * exposure at market, strategy attribution, sources, risk and capital, costs, holding times,
 * roundtrips, big movers, the previous window and the chart's all-time running total. Each
 * optional input (price table, cash_transactions, trigger, source) is also tried missing or
 * shaped differently, on the bot's real DDL where the bot has it and on a database with
 * fifo-ledger's schema only.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { DEFAULT_SETTINGS, type ReportSettings } from '../../shared/report/config.ts';
import { buildReportModel, renderHtml, renderText } from '../../shared/report/index.ts';
import { explainCommand } from '../../shared/report/sections.ts';
import type { SampleTrade } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createBotSchema } from '../support/bot-schema.ts';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FIXTURE, loadCashTransactions, NOW, ROUNDTRIP_FIXTURE, STRATEGY_FIXTURE } from './fixtures.ts';

/** fifo-ledger's schema only: no cash_transactions. */
let fresh: TestDatabase;
/** The bot's exact DDL (with cash_transactions, trigger jsonb NOT NULL, source), adopted. */
let bot: TestDatabase;

beforeAll(async () => {
  fresh = await createTestDatabase();
  bot = await createEmptyDatabase();
  await createBotSchema(bot.pool, { data: false });
  const client = await bot.pool.connect();
  await migrate(client).finally(() => client.release());
});
afterAll(async () => {
  await fresh?.drop();
  await bot?.drop();
});

async function reset(db: TestDatabase): Promise<void> {
  await db.pool.query(
    `TRUNCATE trade_records, fifo_allocations, fifo_lots, fifo_symbol_progress, fifo_versions,
              fifo_computation_log, fifo_rejected_trades, fifo_trade_changes CASCADE`,
  );
  await db.pool.query('DROP VIEW IF EXISTS odd_prices');
  await db.pool.query('DROP TABLE IF EXISTS prices');
  if (db === bot) await db.pool.query('TRUNCATE cash_transactions');
}
beforeEach(async () => {
  await reset(fresh);
  await reset(bot);
});

async function modelOf(
  db: TestDatabase,
  trades: readonly SampleTrade[],
  settings: Partial<ReportSettings> = {},
  options: { chartDays?: number } = {},
) {
  await insertTrades(db.pool, trades);
  await runFullRebuild(db, { version: 1 });
  return buildReportModel(db, {
    version: 1,
    now: NOW,
    settings: { ...DEFAULT_SETTINGS, ...settings },
    ...options,
  });
}

describe('open positions at market', () => {
  const extra: SampleTrade = {
    order_id: 'd1',
    symbol: 'DDD-USD',
    side: 'buy',
    order_time: '2024-03-10T20:00:00Z',
    size: '10',
    price: '2',
    fee: '0',
  };

  it('marks from the price table, else the last fill, with the age of each mark and a stale flag', async () => {
    // Why: unrealized PnL is only as good as its marks; the reader must see where each came from and how old it is.
    // Prepare: CCC (3 units, cost 161) has a price row 10 min before the end (58.5); an older and a
    // later row are not used. DDD (10 units @ 2, cost 20) has none: its last fill, 4 h old.
    await fresh.pool.query(`CREATE TABLE prices (symbol text, price numeric, as_of timestamptz)`);
    await fresh.pool.query(
      `INSERT INTO prices VALUES ('CCC-USD', 50, '2024-03-10T00:00:00Z'), ('CCC-USD', 58.5, '2024-03-10T23:50:00Z'),
                                 ('CCC-USD', 99, '2024-03-11T00:05:00Z')`,
    );

    // Act
    const model = await modelOf(fresh, [...FIXTURE, extra], { priceTable: 'prices' });

    // Assess: CCC 3 x 58.5 = 175.5 - 161 = +14.5; DDD 10 x 2 = 20 - 20 = 0.
    const m = model.market;
    expect(m.priceTable).toBe('prices');
    expect(m.priceTableNeeds).toBeNull();
    expect(
      m.positions.map((p) => [
        p.symbol,
        p.mark?.price,
        p.mark?.source,
        p.mark?.ageSeconds,
        p.mark?.stale,
        p.marketValue,
        p.unrealizedPnl,
      ]),
    ).toEqual([
      ['CCC-USD', '58.5', 'price table', 600, false, '175.5', '14.5'],
      ['DDD-USD', '2', 'last fill', 4 * 3600, true, '20', '0'],
    ]);
    expect(m.totals).toEqual({
      costBasis: '181',
      marketValue: '195.5',
      unrealizedPnl: '14.5',
      unmarkedCost: '0',
      unmarked: 0,
      stale: 1,
    });
  });

  it('marks each symbol at its last fill, labelled so, without a price table', async () => {
    // Why: the fallback must work with no setting at all, and say it is a fill price.
    // Prepare: CCC's last fill is c2, a buy @ 60 on 2024-03-05.

    // Act
    const model = await modelOf(fresh, FIXTURE);

    // Assess: 3 x 60 = 180 - 161 = +19; 6 days old, so stale at the 60 min default.
    expect(model.market.priceTable).toBeNull();
    expect(model.market.positions[0]).toMatchObject({
      symbol: 'CCC-USD',
      mark: {
        price: '60',
        source: 'last fill',
        at: '2024-03-05T00:00:00.000000Z',
        ageSeconds: 6 * 86_400,
        stale: true,
      },
      marketValue: '180',
      unrealizedPnl: '19',
    });
    expect(renderText(model)).toMatch(
      /CCC-USD\s+3\s+53\.6667\s+161\.00\s+60\.00\s+last fill\s+6 d 0 h STALE\s+180\.00\s+\+19\.00/,
    );
  });

  it.each([
    [
      'missing',
      () => Promise.resolve(),
      'prices',
      /a table or view prices with columns symbol .*; there is none/,
    ],
    [
      'with other columns',
      () =>
        bot.pool.query(
          `CREATE VIEW odd_prices AS SELECT 'CCC-USD'::text AS product_id, 1::numeric AS last, now() AS ts`,
        ),
      'odd_prices',
      /odd_prices has no symbol, price, as_of/,
    ],
    [
      'with a price that is not a number',
      () => bot.pool.query(`CREATE TABLE prices (symbol text, price boolean, as_of timestamptz)`),
      'prices',
      /its price column is bool/,
    ],
    [
      'with an as_of that is not a time',
      () => bot.pool.query(`CREATE TABLE prices (symbol text, price numeric, as_of text)`),
      'prices',
      /its as_of column is text/,
    ],
  ])(
    'says what a price table %s needs on the bot database, and marks at the last fill',
    async (_case, create, name, needs) => {
      // Why: an operator's price table may not be what the report expects; the report must still go out.
      // Prepare
      await create();

      // Act
      const model = await modelOf(bot, FIXTURE, { priceTable: name });
      const html = renderHtml(model);

      // Assess
      expect(model.market.priceTableNeeds).toMatch(needs);
      expect(model.market.positions[0]!.mark).toMatchObject({ price: '60', source: 'last fill' });
      expect(html).toContain('<b>Needs:</b>');
    },
  );
});

describe('strategy attribution', () => {
  it('gives realized PnL, results and win rate by entry and by exit trigger, each adding up to the window', async () => {
    // Why: "which strategy made the money" is the bot email's most read table.
    // Prepare
    // (STRATEGY_FIXTURE, see fixtures.ts)

    // Act
    const model = await modelOf(fresh, STRATEGY_FIXTURE);

    // Assess
    const a = model.attribution;
    expect(a.entry.ok && a.exit.ok).toBe(true);
    if (!a.entry.ok || !a.exit.ok) return;
    const row = (r: (typeof a.entry.value)[number]) => [
      r.kind,
      r.name,
      r.sells,
      r.wins,
      r.losses,
      r.breakeven,
      r.unmatched,
      r.realizedPnl,
      r.winRate,
    ];
    expect(a.entry.value.map(row)).toEqual([
      ['named', 'roc_momo', 1, 1, 0, 0, 0, '20', 1],
      ['named', 'breakout', 2, 1, 1, 0, 0, '-5', 0.5],
      ['none', null, 1, 0, 0, 1, 0, '0', null],
      ['unmatched', null, 1, 0, 0, 0, 1, '0', null],
    ]);
    expect(a.exit.value.map(row)).toEqual([
      ['named', 'tp', 2, 1, 0, 0, 1, '25', 1],
      ['named', 'roc_exit', 1, 0, 0, 1, 0, '0', null],
      ['named', 'sl', 1, 0, 1, 0, 0, '-10', 0],
    ]);
    expect(a.entry.value.find((r) => r.name === 'breakout')).toMatchObject({
      profitFactor: '0.5',
      expectancy: '-2.5',
    });
    expect(model.metrics.realizedPnl).toBe('15');
    expect(model.metrics.expectancy).toBe('5');
    expect(model.strategies.best).toMatchObject({ name: 'roc_momo', realizedPnl: '20' });
    expect(model.strategies.worst).toMatchObject({ name: 'breakout', realizedPnl: '-5' });
  });

  it('splits a sell that took lots of two strategies between them, slice by slice', async () => {
    // Why: FIFO knows which lot each unit came from; the bot's report gives the whole sell to one buy.
    // Prepare: only x-b1 (roc_momo), x-b2 (breakout) and x-s1, which takes 1 unit of each... 1.5 units.
    const trades = STRATEGY_FIXTURE.filter((t) => ['x-b1', 'x-b2', 'x-s1'].includes(t.order_id));

    // Act
    const model = await modelOf(fresh, trades);

    // Assess: +20 from x-b1's lot, +5 from half of x-b2's: the sell's +25, exactly.
    expect(
      model.attribution.entry.ok &&
        model.attribution.entry.value.map((r) => [r.name, r.realizedPnl, r.sells]),
    ).toEqual([
      ['roc_momo', '20', 1],
      ['breakout', '5', 1],
    ]);
    expect(model.metrics.realizedPnl).toBe('25');
  });

  it('groups trades without a trigger and trades no longer in trade_records as such', async () => {
    // Why: an empty trigger or a deleted buy must show up as a group of its own, not vanish or crash.
    // Prepare: y-b1 has trigger {}; x-b1 is deleted after the allocations were written.
    await insertTrades(fresh.pool, STRATEGY_FIXTURE);
    await runFullRebuild(fresh, { version: 1 });
    await fresh.pool.query(`DELETE FROM trade_records WHERE order_id = 'x-b1'`);

    // Act
    const model = await buildReportModel(fresh, { version: 1, now: NOW });

    // Assess
    const entry = model.attribution.entry.ok ? model.attribution.entry.value : [];
    expect(entry.map((r) => [r.kind, r.name, r.realizedPnl])).toEqual([
      ['named', 'breakout', '-5'],
      ['none', null, '0'],
      ['not found', null, '20'],
      ['unmatched', null, '0'],
    ]);
    expect(renderText(model)).toMatch(/\(trade no longer in trade_records\)\s+\+20\.00/);
    expect(renderText(model)).toMatch(/\(no trigger\)\s+0\.00/);
  });

  it('reads a text trigger column as the name, and says what it needs when there is none', async () => {
    // Why: an older bot stored the trigger as text (a name, or JSON as text); a tidied one may have dropped it.
    // Prepare: names as text, and one row of JSON kept as text.
    await insertTrades(bot.pool, STRATEGY_FIXTURE);
    await bot.pool.query(
      `ALTER TABLE trade_records ALTER COLUMN "trigger" TYPE text USING coalesce("trigger" ->> 'trigger', '')`,
    );
    await bot.pool.query(
      `UPDATE trade_records SET "trigger" = '{"trigger": "breakout", "tf": "1h"}' WHERE order_id = 'x-b2'`,
    );
    try {
      // Act
      await runFullRebuild(bot, { version: 1 });
      const asText = await buildReportModel(bot, { version: 1, now: NOW });
      await bot.pool.query('ALTER TABLE trade_records DROP COLUMN "trigger"');
      const without = await buildReportModel(bot, { version: 1, now: NOW });

      // Assess
      expect(asText.attribution.note).toMatch(
        /^trade_records\.trigger is text: its value is the strategy's name/,
      );
      expect(
        asText.attribution.entry.ok &&
          asText.attribution.entry.value.map((r) => [r.kind, r.name, r.realizedPnl]),
      ).toEqual([
        ['named', 'roc_momo', '20'],
        ['named', 'breakout', '-5'],
        ['none', null, '0'],
        ['unmatched', null, '0'],
      ]);
      expect(without.attribution.entry).toEqual({
        ok: false,
        needs: expect.stringMatching(
          /^trade_records\.trigger, jsonb as the bot writes it .*; it has no trigger column$/,
        ),
      });
      expect(without.sources.ok).toBe(true);
      expect(renderHtml(without)).toContain('<b>Needs:</b> trade_records.trigger');
    } finally {
      // Back to the bot's DDL: jsonb NOT NULL (on an empty table).
      await reset(bot);
      await bot.pool.query('ALTER TABLE trade_records DROP COLUMN IF EXISTS "trigger"');
      await bot.pool.query('ALTER TABLE trade_records ADD COLUMN "trigger" jsonb NOT NULL');
    }
  });
});

describe('PnL by source', () => {
  it('counts buys and sells and sums realized PnL per source, by the sell and by the buy', async () => {
    // Why: the operator compares webhook, websocket and the market maker; both PnL columns must add up.
    // Prepare
    // (STRATEGY_FIXTURE, on the bot's real DDL)

    // Act
    const model = await modelOf(bot, STRATEGY_FIXTURE);

    // Assess
    expect(
      model.sources.ok &&
        model.sources.value.map((r) => [r.kind, r.name, r.buys, r.sells, r.realizedPnl, r.entryPnl]),
    ).toEqual([
      ['named', 'webhook', 2, 2, '25', '20'],
      ['named', 'manual', 0, 1, '0', '0'],
      ['named', 'websocket', 1, 0, '0', '-5'],
      ['named', 'passivemm', 0, 1, '-10', '0'],
      ['none', null, 1, 0, '0', '0'],
    ]);
  });

  it('says what it needs when trade_records has no source column', async () => {
    // Why: source is optional on an operator's database; its absence must not cost the rest of the email.
    // Prepare
    await fresh.pool.query('ALTER TABLE trade_records DROP COLUMN source');
    try {
      // Act
      for (const t of STRATEGY_FIXTURE) {
        await fresh.pool.query(
          `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status, "trigger")
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'filled', jsonb_build_object('trigger', $8::text))`,
          [t.order_id, t.symbol, t.side, t.order_time, t.price, t.size, t.fee, t.trigger],
        );
      }
      await runFullRebuild(fresh, { version: 1 });
      const model = await buildReportModel(fresh, { version: 1, now: NOW });

      // Assess
      expect(model.sources).toEqual({
        ok: false,
        needs: expect.stringMatching(
          /^trade_records\.source, the text the bot writes .*; it has no source column$/,
        ),
      });
      expect(model.attribution.entry.ok).toBe(true);
      expect(renderText(model)).toContain('NEEDS: trade_records.source');
    } finally {
      await reset(fresh);
      await fresh.pool.query('ALTER TABLE trade_records ADD COLUMN source varchar');
    }
  });
});

describe('risk and capital', () => {
  it('takes the starting equity from cash_transactions on the bot database: drawdown, cash and invested %', async () => {
    // Why: the bot's email shows max drawdown, cash and invested %, from the deposits.
    // Prepare
    await loadCashTransactions(bot.pool);

    // Act
    const model = await modelOf(bot, STRATEGY_FIXTURE);

    // Assess
    const r = model.risk;
    expect(r.startingEquity).toEqual({
      source: 'cash_transactions',
      amount: '1300',
      cash: { deposits: '1500', withdrawals: '200', net: '1300', rows: 3, otherRows: 1 },
    });
    expect(r.cashTransactionsNeeds).toBeNull();
    expect(r.maxDrawdown).toEqual({
      usd: '10',
      peak: '1325',
      trough: '1315',
      at: '2024-03-10T04:00:00.000000Z',
    });
    expect(r.maxDrawdownPct).toMatchObject({ usd: '10', peak: '1325', ratio: '0.00754717' });
    expect([r.realizedEquity, r.cash, r.exposure, r.equityNow, r.investedRatio]).toEqual([
      '1315',
      '1219',
      '100',
      '1319',
      '0.07581501',
    ]);
    expect(model.chart.days.at(-1)!.equity).toBe('1315');
    expect(renderText(model)).toMatch(
      /Starting equity\s+1,300\.00\s+from cash_transactions: deposits \+1,500\.00/,
    );
  });

  it('falls back to the setting without cash_transactions, and says so', async () => {
    // Why: fifo-ledger's own schema has no cash_transactions; a configured equity must still give the figures.
    // Prepare: starting equity 1,000: curve 1,025, 1,015: drawdown 10 / 1,025.

    // Act
    const model = await modelOf(fresh, STRATEGY_FIXTURE, { startingEquity: '1000' });

    // Assess
    const r = model.risk;
    expect(r.startingEquity).toEqual({ source: 'setting', amount: '1000' });
    expect(r.cashTransactionsNeeds).toMatch(/^cash_transactions with amount_usd .*; there is no such table$/);
    expect(r.maxDrawdownPct?.ratio).toBe('0.0097561');
    expect([r.cash, r.equityNow, r.investedRatio]).toEqual(['919', '1019', '0.09813543']);
  });

  it('without a starting equity gives the drawdown in USD and says what the rest needs', async () => {
    // Why: nothing configured must still produce an email, with the gaps named.
    // Prepare: the curve from 0: 25, 15: a fall of 10 USD.

    // Act
    const model = await modelOf(fresh, STRATEGY_FIXTURE);
    const html = renderHtml(model);

    // Assess
    const r = model.risk;
    expect(r.startingEquity).toEqual({ source: 'none' });
    expect(r.maxDrawdown).toMatchObject({ usd: '10', peak: '25', trough: '15' });
    expect([r.maxDrawdownPct, r.cash, r.equityNow, r.investedRatio, r.realizedEquity]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(model.chart.days.at(-1)!.equity).toBeNull();
    expect(html).toContain('unknown: set REPORT_STARTING_EQUITY (or --starting-equity)');
    expect(html).toContain('Starting equity unknown: the all-time realized PnL');
  });

  it('says what cash_transactions needs when it lacks amount_usd, and uses the setting', async () => {
    // Why: an operator's cash table may be shaped differently; the report must name what is missing.
    // Prepare
    await bot.pool.query('ALTER TABLE cash_transactions DROP COLUMN amount_usd');
    try {
      // Act
      const model = await modelOf(bot, STRATEGY_FIXTURE, { startingEquity: '1000' });

      // Assess
      expect(model.risk.startingEquity).toEqual({ source: 'setting', amount: '1000' });
      expect(model.risk.cashTransactionsNeeds).toMatch(/; it has no amount_usd$/);
      expect(renderHtml(model)).toContain('<b>Needs:</b> starting equity from cash_transactions');
    } finally {
      await bot.pool.query(
        'ALTER TABLE cash_transactions ADD COLUMN amount_usd decimal(20, 8) CHECK (amount_usd >= 0)',
      );
    }
  });
});

describe('costs and break-even', () => {
  it('gives the break-even move of a round trip at the maker and taker rates, and the observed rate', async () => {
    // Why: "how far must the price move before a trade pays" is the fee figure a trader acts on.
    // Prepare: fees 3.54 over a volume of 564.25 (lots opened 200 + 10; sells' gross proceeds
    // 60 + 50.25 + 190 + 30 + 24).

    // Act
    const defaults = await modelOf(fresh, FIXTURE);
    const configured = await buildReportModel(fresh, {
      version: 1,
      now: NOW,
      settings: { ...DEFAULT_SETTINGS, makerFeeRate: '0.004', takerFeeRate: '0.006' },
    });

    // Assess: 0.006 / 0.997 and 0.011 / 0.9945; 0.008 / 0.996 and 0.012 / 0.994.
    expect(defaults.costs).toEqual({
      buyFees: '2',
      sellFees: '1.54',
      fees: '3.54',
      volume: '564.25',
      observedRate: '0.00627381',
      makerRate: '0.003',
      takerRate: '0.0055',
      breakEvenMaker: '0.00601805',
      breakEvenTaker: '0.01106083',
      breakEvenObserved: '0.01262684',
    });
    expect([configured.costs.breakEvenMaker, configured.costs.breakEvenTaker]).toEqual([
      '0.00803213',
      '0.01207243',
    ]);
  });
});

describe('holding time', () => {
  it('gives the size-weighted median and p90 of the slices, per symbol and over all (weighted by USD)', async () => {
    // Why: how long the bot holds is the first sign of a strategy that changed.
    // Prepare: AAA slices 0.5 @ 15 h, 0.5 @ 16.5 h, 1 @ 19 h; BBB 1 @ 1 h. Over all, by cost:
    // 10 @ 1 h, 50.25 @ 15 h, 50.25 @ 16.5 h, 202 @ 19 h (half of 312.5 is reached at 19 h).

    // Act
    const model = await modelOf(fresh, FIXTURE);

    // Assess
    expect(model.holding).toEqual([
      {
        symbol: null,
        slices: 4,
        weightedBy: 'usd',
        weight: '312.5',
        medianSeconds: 19 * 3600,
        p90Seconds: 19 * 3600,
      },
      {
        symbol: 'AAA-USD',
        slices: 3,
        weightedBy: 'size',
        weight: '2',
        medianSeconds: 16.5 * 3600,
        p90Seconds: 19 * 3600,
      },
      {
        symbol: 'BBB-USD',
        slices: 1,
        weightedBy: 'size',
        weight: '1',
        medianSeconds: 3600,
        p90Seconds: 3600,
      },
    ]);
  });
});

describe('near-instant roundtrips', () => {
  it('are the FIFO slices held no longer than the threshold, with their PnL and fees', async () => {
    // Why: a market maker's roundtrips decide whether it earns its fees; FIFO slices say exactly which they are.
    // Prepare
    // (ROUNDTRIP_FIXTURE, see fixtures.ts)

    // Act
    const model = await modelOf(fresh, ROUNDTRIP_FIXTURE);
    const stricter = await buildReportModel(fresh, {
      version: 1,
      now: NOW,
      settings: { ...DEFAULT_SETTINGS, roundtripSeconds: 59 },
    });

    // Assess
    const r = model.roundtrips;
    expect(r.thresholdSeconds).toBe(60);
    expect(
      r.slices.map((s) => [s.sell_order_id, s.buy_order_id, s.holding_seconds, s.pnl_usd, s.fees_usd]),
    ).toEqual([
      ['v-s1', 'v-b1', '30', '0.3', '0.2'],
      ['v-s2', 'v-b2', '60', '-1', '0'],
      ['u-s1', 'u-b1', '5', '0.16', '0.04'],
    ]);
    expect(r.groups).toEqual([
      { symbol: 'V-USD', slices: 2, sells: 2, size: '2', pnl: '-0.7', fees: '0.2' },
      { symbol: 'U-USD', slices: 1, sells: 1, size: '2', pnl: '0.16', fees: '0.04' },
      { symbol: null, slices: 3, sells: 3, size: '4', pnl: '-0.54', fees: '0.24' },
    ]);
    expect(stricter.roundtrips.slices.map((s) => s.sell_order_id)).toEqual(['v-s1', 'u-s1']);
  });
});

describe('big movers', () => {
  it('are the best and the worst counted sells of the window, each with the command that explains it', async () => {
    // Why: the reader's next step after a surprising figure is to see its lots.
    // Prepare: x-s1 +25 and x-s2 -10; y-s1 (0) and z-s1 (unmatched) are neither.

    // Act
    const model = await modelOf(fresh, STRATEGY_FIXTURE);

    // Assess
    expect(model.movers).toEqual({
      best: [
        {
          sellOrderId: 'x-s1',
          symbol: 'X-USD',
          sellTime: '2024-03-10T03:00:00.000000Z',
          pnl: '25',
          command: 'npx fifo explain x-s1',
        },
      ],
      worst: [
        {
          sellOrderId: 'x-s2',
          symbol: 'X-USD',
          sellTime: '2024-03-10T04:00:00.000000Z',
          pnl: '-10',
          command: 'npx fifo explain x-s2',
        },
      ],
    });
  });

  it('writes commands a shell runs as they are, whatever the order id', () => {
    // Why: an id with a quote, a space or a leading dash must not break or change the pasted command.
    // Prepare
    const ids = ["it's a-b", '-starts-with-dash', 'plain-1234'];

    // Act
    const commands = ids.map((id, i) => explainCommand(id, i === 2 ? 2 : 1));

    // Assess
    expect(commands).toEqual([
      `npx fifo explain 'it'\\''s a-b'`,
      'npx fifo explain -- -starts-with-dash',
      'npx fifo explain --version 2 plain-1234',
    ]);
  });
});

describe('the previous window and the charts', () => {
  it('compares the headline figures with the window before', async () => {
    // Why: day over day is how the operator notices a change.
    // Prepare: the previous 24 h hold s1 (+9, fee 0.5, at its end) and b1's lot (fee 1).

    // Act
    const model = await modelOf(fresh, FIXTURE);

    // Assess
    expect(model.previous).toMatchObject({
      start: '2024-03-09T00:00:00.000Z',
      end: '2024-03-10T00:00:00.000Z',
      metrics: { sells: 1, wins: 1, realizedPnl: '9', fees: '1.5', expectancy: '9' },
    });
    expect(renderText(model)).toMatch(/Realized PnL\s+-1\.37\s+\+9\.00\s+-10\.37/);
  });

  it('runs the chart total from all time, so its last point is the all-time realized PnL', async () => {
    // Why: a running total that silently starts at the chart's first day contradicted the key figure above it.
    // Prepare: a 5-day chart starts 2024-03-07; c3 (+4.50, 2024-03-02) is before it.

    // Act
    const model = await modelOf(fresh, FIXTURE, { startingEquity: '100' }, { chartDays: 5 });
    const html = renderHtml(model);

    // Assess
    const days = model.chart.days;
    expect(model.chart.before).toBe('4.5');
    expect(days.map((d) => [d.date, d.pnl, d.cumulative, d.equity])).toEqual([
      ['2024-03-07', '0', '4.5', '104.5'],
      ['2024-03-08', '0', '4.5', '104.5'],
      ['2024-03-09', '0', '4.5', '104.5'],
      ['2024-03-10', '20.63', '25.13', '125.13'],
      ['2024-03-11', '-13', '12.13', '112.13'],
    ]);
    expect(days.at(-1)!.cumulative).toBe(model.allTime.realizedPnl);
    expect(html).toContain(
      'At the end of 2024-03-11: 112.13 USD (all-time realized PnL +12.13 USD, as in Key metrics)',
    );
  });
});
