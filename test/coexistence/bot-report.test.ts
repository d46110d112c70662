/**
 * The bot's own daily report keeps its figures. It reads fifo_allocations
 * (docs/design.md §3.1): Σ pnl_usd over a sell_time window of one version, the join from allocations
 * to the buy's trigger->>'trigger' and source for its strategy and source breakdowns, and
 * v_allocation_health. Its queries (test/support/bot-writers.ts, botDailyReport) are run
 * against fifo-ledger's version 3 and checked against fifo-ledger's own figures: the pure
 * engine (shared/fifo) over the same trades and the daily report model; against version 2
 * they still give exactly what the bot's own FIFO script wrote.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { withConnection } from '../../shared/db/pool.ts';
import { type Allocation, computeFifo, formatUsd, parseTrades } from '../../shared/fifo/index.ts';
import { runIncremental } from '../../shared/jobs/index.ts';
import { buildReportModel } from '../../shared/report/index.ts';
import { createBotSchema } from '../support/bot-schema.ts';
import {
  BOT_SOURCES,
  BOT_VERSION,
  type BotReport,
  botDailyReport,
  cancelOrder,
  fillId,
  type RecordedTrade,
  recordTrade,
  runBotFifoFull,
} from '../support/bot-writers.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';

const OURS = 3;
const SEED = Number(process.env.FIFO_COEXIST_SEED ?? 0x13c0e);
const RUNS = Number(process.env.FIFO_BOT_REPORT_RUNS ?? 25);
const MINUTE = 60_000;
/** Half a minute past a whole minute: every trade is at a whole minute, so none sits on a bound. */
const NOW = new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 30_000);
const WINDOW = { start: new Date(NOW.getTime() - 24 * 60 * MINUTE).toISOString(), end: NOW.toISOString() };
const minutesAgo = (m: number) =>
  new Date(Math.floor(NOW.getTime() / MINUTE) * MINUTE - m * MINUTE).toISOString();

/** Exact decimal equality of two numeric texts. */
const same = (a: string | null | undefined, b: string | null | undefined) =>
  a === b ||
  (a != null && b != null && /^-?\d+(\.\d+)?$/.test(a) && formatUsd(toUsd(a)) === formatUsd(toUsd(b)));
/** Numeric text to 8-place USD units (the sums here never carry more places). */
function toUsd(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text.replace('-', '').split('.');
  if (fraction.replace(/0+$/, '').length > 8) throw new Error(`more than 8 places: ${text}`);
  const units = BigInt(whole) * 100_000_000n + BigInt(`${fraction}00000000`.slice(0, 8));
  return negative ? -units : units;
}
const expectSame = (actual: string | null | undefined, expected: string | null | undefined, what: string) =>
  expect(same(actual, expected), `${what}: ${actual} vs ${expected}`).toBe(true);

/** fifo-ledger's own figures: the pure engine over the trade source as it stands. */
async function engineFigures(db: TestDatabase, trades: ReadonlyMap<string, RecordedTrade>) {
  const { rows } = await db.pool.query(
    'SELECT order_id, symbol, side, order_time::text AS order_time, price, size, fee FROM fifo_trade_source',
  );
  const parsed = parseTrades(rows, (i) => `row ${i}`);
  expect(parsed.errors).toEqual([]);
  const all = computeFifo(parsed.trades).allocations;
  const inWindow = (a: Allocation) =>
    Date.parse(a.sellTime) >= Date.parse(WINDOW.start) && Date.parse(a.sellTime) < Date.parse(WINDOW.end);
  const sum = (list: readonly Allocation[]) => list.reduce((s, a) => s + (a.pnl ?? 0n), 0n);
  const window = all.filter(inWindow);
  const breakdown = (key: (t: RecordedTrade) => string) => {
    const groups = new Map<string, Allocation[]>();
    for (const a of window) {
      if (a.buyOrderId === null) continue;
      const k = key(trades.get(a.buyOrderId)!);
      groups.set(k, [...(groups.get(k) ?? []), a]);
    }
    return [...groups]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, list]) => ({
        key: k,
        sells: new Set(list.map((a) => a.sellOrderId)).size,
        pnl: formatUsd(sum(list)),
      }));
  };
  const bySymbol = new Map<string, Allocation[]>();
  for (const a of all) bySymbol.set(a.symbol, [...(bySymbol.get(a.symbol) ?? []), a]);
  return {
    realizedPnl: formatUsd(sum(window)),
    sells: new Set(window.map((a) => a.sellOrderId)).size,
    byStrategy: breakdown((t) => t.trigger),
    bySource: breakdown((t) => t.source),
    health: {
      total_allocations: String(all.length),
      sells_matched: String(new Set(all.map((a) => a.sellOrderId)).size),
      buys_used: String(new Set(all.flatMap((a) => (a.buyOrderId === null ? [] : [a.buyOrderId]))).size),
      unmatched_sells: String(all.filter((a) => a.buyOrderId === null).length),
      total_pnl: all.some((a) => a.pnl !== null) ? formatUsd(sum(all)) : null,
    },
    pnlBySymbol: [...bySymbol]
      .map(([symbol, list]) => ({
        symbol,
        pnl: list.some((a) => a.pnl !== null) ? formatUsd(sum(list)) : null,
      }))
      .sort((a, b) => (a.symbol < b.symbol ? -1 : 1)),
  };
}

/** The bot's report over version 3 equals fifo-ledger's figures, and the report model's. */
async function assessVersion3(db: TestDatabase, trades: ReadonlyMap<string, RecordedTrade>) {
  const bot = await botDailyReport(db.pool, { version: OURS, ...WINDOW });
  const engine = await engineFigures(db, trades);
  expectSame(bot.realizedPnl, engine.realizedPnl, 'window pnl vs the engine');
  expect(bot.sells).toBe(engine.sells);
  const rows = (list: BotReport['byStrategy']) =>
    [...list].sort((a, b) => (a.key < b.key ? -1 : 1)).map((r) => ({ ...r, pnl: formatUsd(toUsd(r.pnl)) }));
  expect(rows(bot.byStrategy), 'pnl by strategy').toEqual(engine.byStrategy);
  expect(rows(bot.bySource), 'pnl by source').toEqual(engine.bySource);
  if (engine.health.total_allocations === '0') expect(bot.health).toBeNull();
  else {
    expect({ ...bot.health, total_pnl: null }).toEqual({ ...engine.health, total_pnl: null });
    expectSame(bot.health?.total_pnl, engine.health.total_pnl, 'v_allocation_health total_pnl');
  }
  // v_pnl_by_symbol reads the highest version: fifo-ledger's 3, beside the bot's 2.
  const { rows: bySymbol } = await db.pool.query<{ symbol: string; pnl: string | null }>(
    'SELECT symbol, pnl::text AS pnl FROM v_pnl_by_symbol',
  );
  const viewPnl = bySymbol
    .map((r) => ({ symbol: r.symbol, pnl: r.pnl === null ? null : formatUsd(toUsd(r.pnl)) }))
    .sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  expect(viewPnl, 'v_pnl_by_symbol').toEqual(engine.pnlBySymbol);

  // The report model (its window is start < sell_time <= end; no trade sits on either bound).
  const model = await buildReportModel(db, { version: OURS, hours: 24, now: NOW });
  expectSame(model.metrics.realizedPnl, bot.realizedPnl, "the report model's window pnl");
  expect(model.metrics.sells).toBe(bot.sells);
  expectSame(model.allTime.realizedPnl, bot.health?.total_pnl ?? '0', "the report model's all-time pnl");
  return { bot, engine };
}

/** The bot's report over version 2 gives what the bot's script wrote, whatever fifo-ledger did. */
async function assessVersion2(db: TestDatabase, written: readonly string[], loggedTotal: string | null) {
  const rows = written.map((r) => JSON.parse(r) as { pnl_usd: number | null; sell_time: string });
  const { rows: exact } = await db.pool.query<{ pnl: string | null; sell_time: string }>(
    `SELECT r.pnl_usd::text AS pnl, r.sell_time::text AS sell_time
     FROM unnest($1::jsonb[]) AS j, jsonb_to_record(j) AS r(pnl_usd numeric, sell_time timestamptz)`,
    [written],
  );
  expect(exact.length).toBe(rows.length);
  const inWindow = exact.filter(
    (r) =>
      Date.parse(r.sell_time) >= Date.parse(WINDOW.start) && Date.parse(r.sell_time) < Date.parse(WINDOW.end),
  );
  const total = (list: typeof exact) =>
    formatUsd(list.reduce((s, r) => s + (r.pnl === null ? 0n : toUsd(r.pnl)), 0n));
  const bot = await botDailyReport(db.pool, { version: BOT_VERSION, ...WINDOW });
  expectSame(bot.realizedPnl, total(inWindow), "the bot's window pnl over its own rows");
  expect(bot.health?.total_allocations ?? '0').toBe(String(rows.length));
  if (rows.some((r) => r.pnl_usd !== null))
    expectSame(bot.health?.total_pnl, total(exact), "the bot's all-time pnl");
  if (loggedTotal !== null) expectSame(bot.health?.total_pnl ?? '0', loggedTotal, "its log row's total");
  return bot;
}

// The bot's production DDL and its writers' sessions beside the jobs need a real server.
describe("the bot's daily report on fifo-ledger's version", { tags: 'server' }, () => {
  let db: TestDatabase;
  let bot: pg.Pool;
  beforeAll(async () => {
    db = await createEmptyDatabase();
    await createBotSchema(db.pool, { data: false });
    await withConnection(db, migrate);
    bot = new pg.Pool({ connectionString: db.url, max: 2, application_name: 'trading-bot' });
  });
  afterAll(async () => {
    await bot?.end();
    await db?.drop();
  });

  async function reset() {
    await db.pool.query(
      `TRUNCATE trade_records, fifo_allocations, fifo_lots, fifo_trade_changes, fifo_symbol_progress, fifo_versions,
                fifo_computation_log, fifo_rejected_trades, fifo_mirror_writes, manual_review_queue CASCADE`,
    );
  }

  it('gives FIFO figures on version 3 and its own on version 2: the stale-lot history of docs/design.md §3.1', async () => {
    // Why: the bot's report is how the operator saw the 100x mis-stated PnL; pointed at
    // fifo-ledger's version it must show FIFO's figures by window, strategy and source, and on
    // its own version 2 it must keep showing what its own script computed.
    // Prepare: TOSHI lots of Oct and Nov (before the window), sells in and before the window,
    // a BTC round trip with per-fill rows, and a sell with no lot at all.
    await reset();
    const t = (
      orderId: string,
      symbol: string,
      side: 'buy' | 'sell',
      minutes: number,
      size: string,
      price: string,
      trigger: string,
      source: RecordedTrade['source'],
      fee: string | null = '0.05',
    ): RecordedTrade => ({
      orderId,
      symbol,
      side,
      orderTime: minutesAgo(minutes),
      price,
      size,
      fee,
      trigger,
      source,
    });
    const history = [
      t('oct-buy', 'TOSHI-USD', 'buy', 3 * 1440, '40000', '0.000773', 'roc_momo', 'webhook', '0.1'),
      t('oct-sell', 'TOSHI-USD', 'sell', 2 * 1440 + 600, '33395', '0.0008', 'tp', 'webhook', '0.1'),
      t('nov-buy', 'TOSHI-USD', 'buy', 2 * 1440, '33395', '0.000424', 'rsi_revert', 'websocket'),
      t('nov-sell', 'TOSHI-USD', 'sell', 600, '33395', '0.000423', 'sl', 'reconciled'),
      t('btc-buy', 'BTC-USD', 'buy', 900, '0.003', '65000.5', 'breakout', 'passivemm', null),
      t('btc-sell', 'BTC-USD', 'sell', 300, '0.002', '66000', 'tp', 'manual'),
      t('eth-sell', 'ETH-USD', 'sell', 120, '0.5', '3000', 'sl', 'websocket'),
    ];
    for (const trade of history) await recordTrade(bot, trade);
    for (const [n, size] of [
      [1, '0.0012'],
      [2, '0.0008'],
    ] as const) {
      await recordTrade(bot, { ...history[5]!, orderId: fillId('btc-sell', n), size, fee: null });
    }
    const trades = new Map(history.map((h) => [h.orderId, h]));
    const written = await runBotFifoFull(bot, { batchId: '00000000-0000-4000-8000-0000000000b2' });

    // Act
    await runIncremental(db, { version: OURS });
    const { bot: ours, engine } = await assessVersion3(db, trades);
    const { rows: logged } = await db.pool.query<{ total: string }>(
      `SELECT ($1::jsonb)->>'total_pnl_computed' AS total`,
      [written.log],
    );
    const theirs = await assessVersion2(db, written.allocations, logged[0]!.total);

    // Assess: the figures themselves. The Nov sell takes the rest of the Oct lot first (FIFO:
    // 6,605 of it), then 26,790 of the Nov lot; ETH's sell has no lot at all.
    expect(engine.sells).toBe(3);
    expect(ours.byStrategy.map((r) => r.key)).toEqual(['breakout', 'roc_momo', 'rsi_revert']);
    expect(ours.bySource.map((r) => r.key)).toEqual(['passivemm', 'webhook', 'websocket']);
    expect(ours.health).toMatchObject({ total_allocations: '5', unmatched_sells: '1' });
    expect(theirs.health).toMatchObject({ total_allocations: '5', unmatched_sells: '1' });
  });

  it(`gives FIFO figures on version 3 over ${RUNS} seeded histories of the bot's writers (seed ${SEED})`, async () => {
    // Why: the same, for any mix of late, corrected, cancelled and per-fill trades that
    // fifo-ledger took in through incremental runs while the bot's script rewrote version 2.
    const symbols = ['BTC-USD', 'TOSHI-USD'];
    const newTrade = fc.record({
      kind: fc.constant('trade' as const),
      symbol: fc.constantFrom(...symbols),
      side: fc.constantFrom('buy' as const, 'buy' as const, 'sell' as const),
      minutes: fc.integer({ min: 1, max: 3 * 1440 }),
      units: fc.integer({ min: 1, max: 400 }),
      priceUnits: fc.integer({ min: 900, max: 1100 }),
      fee: fc.option(fc.integer({ min: 0, max: 50 }), { nil: null }),
      trigger: fc.constantFrom('roc_momo', 'rsi_revert', 'breakout', 'tp'),
      source: fc.constantFrom(...BOT_SOURCES),
      fills: fc.constantFrom(0, 0, 0, 2),
    });
    const op = fc.oneof(
      { weight: 8, arbitrary: newTrade },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('correct' as const),
          pick: fc.nat(),
          factor: fc.integer({ min: 50, max: 150 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'run' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'bot' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 30 }), async (ops) => {
        // Prepare
        await reset();
        const trades = new Map<string, RecordedTrade>();
        let written: Awaited<ReturnType<typeof runBotFifoFull>> | null = null;
        let next = 0;

        // Act
        for (const o of ops) {
          if (o.kind === 'trade') {
            const btc = o.symbol === 'BTC-USD';
            const price = btc ? String(o.priceUnits * 65) : `0.000${o.priceUnits}`;
            const size = btc ? String(o.units / 10_000) : String(o.units * 100);
            const trade: RecordedTrade = {
              orderId: `o${String(next++).padStart(3, '0')}`,
              symbol: o.symbol,
              side: o.side,
              orderTime: minutesAgo(o.minutes),
              price,
              size,
              fee: o.fee === null ? null : String(o.fee / 1000),
              trigger: o.trigger,
              source: o.source,
            };
            await recordTrade(bot, trade);
            trades.set(trade.orderId, trade);
            for (let n = 1; n <= o.fills; n++) {
              await recordTrade(bot, {
                ...trade,
                orderId: fillId(trade.orderId, n),
                size: String(Number(size) / 2),
              });
            }
          } else if (o.kind === 'correct' && trades.size > 0) {
            const ids = [...trades.keys()];
            const before = trades.get(ids[o.pick % ids.length]!)!;
            const after = {
              ...before,
              price: String(Number(before.price) * (o.factor / 100)),
              source: 'reconciled' as const,
            };
            await recordTrade(bot, after);
            trades.set(after.orderId, after);
          } else if (o.kind === 'cancel' && trades.size > 0) {
            const ids = [...trades.keys()];
            const id = ids[o.pick % ids.length]!;
            await cancelOrder(bot, id);
            trades.delete(id);
          } else if (o.kind === 'run') {
            await runIncremental(db, { version: OURS });
          } else if (o.kind === 'bot') {
            written = await runBotFifoFull(bot, {
              batchId: `00000000-0000-4000-8000-${String(next++).padStart(12, '0')}`,
            });
          }
        }
        await runIncremental(db, { version: OURS });

        // Assess
        await assessVersion3(db, trades);
        if (written) await assessVersion2(db, written.allocations, null);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);
});
