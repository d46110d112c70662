/**
 * Hostile and extreme values in trade_records (docs/reliability.md §7), processed by the jobs running
 * as the least-privilege role: SQL in identifiers stays data, extreme but valid amounts are
 * exact, and every unusable row is excluded, listed with its reason and counted, while the
 * valid rows beside it are processed.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { METRICS } from '../../functions/commons/constants.ts';
import { handler as incrementalHandler } from '../../functions/incremental/index.ts';
import { readHealth, runFullRebuild, runIncremental } from '../../shared/jobs/index.ts';
import { runDailyReport } from '../../shared/report/index.ts';
import { seededRandom } from '../../shared/sample/generator.ts';
import {
  captureStdout,
  fakeContext,
  resetContainer,
  SECRET_ARN,
  secretFor,
  single,
  useHandlerEnvironment,
} from '../functions/support.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type BotTrade, insertBotTrades, resetTables, snapshotVersion } from '../support/fixtures.ts';
import { connectAsJobRole, type JobRoleDatabase } from '../support/job-role.ts';

/** Identifiers written to look like SQL injection. */
const DROP_TRADES_ID = "x'); DROP TABLE trade_records; --";
const QUOTES_ID = `"; DELETE FROM fifo_lots; -- \\ '' $1 %s`;
const DROP_SYMBOL = "BTC-USD'; drop table fifo_allocations; --";
const REJECTED_ID = "'); DELETE FROM fifo_rejected_trades; --";

/** Every table the jobs read or write. */
const TABLES = [
  'trade_records',
  'fifo_allocations',
  'fifo_lots',
  'fifo_rejected_trades',
  'fifo_computation_log',
  'fifo_trade_changes',
  'fifo_symbol_progress',
  'fifo_versions',
];

const trade = (order_id: string, symbol: string, side: string, day: number, price: string, size: string) => ({
  order_id,
  symbol,
  side,
  order_time: `2026-02-${String(day).padStart(2, '0')}T12:00:00Z`,
  price,
  size,
});

/** Valid rows: hostile identifiers, and amounts at the edges of what float8 holds. */
const VALID: BotTrade[] = [
  { ...trade(DROP_TRADES_ID, DROP_SYMBOL, 'buy', 1, '100', '2'), fee: '0.1' },
  { ...trade(QUOTES_ID, DROP_SYMBOL, 'sell', 2, '110', '1.5'), fee: '0.15' },
  // 1e-18 units at a 20-digit price, both exactly as float8 holds them.
  trade('tiny-buy', 'WEI-USD', 'buy', 1, '12345678901234567890', '1e-18'),
  trade('tiny-sell', 'WEI-USD', 'sell', 2, '98765432109876543210', '1e-18'),
  // Huge but finite: 1e300 units at 1e300 USD.
  trade('huge-buy', 'HUGE-USD', 'buy', 1, '1e300', '1e300'),
  trade('huge-sell', 'HUGE-USD', 'sell', 2, '2e300', '1e300'),
];

/** Unusable rows, by order_id, with the words their reason must contain. */
const BAD: { row: BotTrade; reason: string }[] = [
  { row: trade('nan-price', 'ETH-USD', 'buy', 1, 'NaN', '1'), reason: 'price' },
  { row: trade('inf-price', 'ETH-USD', 'buy', 1, 'Infinity', '1'), reason: 'price' },
  { row: trade('minus-inf-size', 'ETH-USD', 'sell', 2, '10', '-Infinity'), reason: 'size' },
  { row: trade('negative-size', 'ETH-USD', 'sell', 2, '10', '-1'), reason: 'size must be greater than zero' },
  {
    row: trade('negative-price', DROP_SYMBOL, 'buy', 1, '-1e300', '1'),
    reason: 'price must be greater than zero',
  },
  { row: trade('too-precise', 'ETH-USD', 'buy', 1, '10', '1e-31'), reason: 'more than 30 decimal places' },
  { row: trade(REJECTED_ID, DROP_SYMBOL, 'buy', 1, 'NaN', '1'), reason: 'price' },
  { row: trade('hostile-side', 'ETH-USD', "buy'; --", 1, '10', '1'), reason: 'side must be buy or sell' },
];

describe('hostile data (needs a server: the jobs log in as the job role)', { tags: 'server' }, () => {
  let admin: TestDatabase;
  let job: JobRoleDatabase;

  beforeAll(async () => {
    admin = await createTestDatabase();
    job = await connectAsJobRole(admin);
  });
  afterAll(async () => {
    await job?.drop();
    await admin?.drop();
  });
  beforeEach(async () => {
    await resetTables(admin.pool);
  });

  async function tablesPresent(): Promise<string[]> {
    const { rows } = await admin.pool.query<{ name: string }>(
      'SELECT t AS name FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL',
      [TABLES],
    );
    return rows.map((r) => r.name);
  }

  it('keeps SQL in order ids and symbols as data, run as the job role', async () => {
    // Why: ids and symbols come from the exchange and the bot; a quote in one must never become SQL.
    // Prepare
    await insertBotTrades(admin.pool, VALID.slice(0, 2));
    await insertBotTrades(admin.pool, [BAD[6]!.row]);

    // Act
    const full = await runFullRebuild(job, { version: 1 });
    await insertBotTrades(admin.pool, [
      { ...trade(`${QUOTES_ID}-2`, DROP_SYMBOL, 'sell', 3, '120', '0.5'), fee: '0' },
    ]);
    const incremental = await runIncremental(job, { version: 1 });

    // Assess
    expect(full.status).toBe('completed');
    expect(incremental).toMatchObject({ status: 'completed', tradesProcessed: 1 });
    expect(await tablesPresent()).toEqual(TABLES);
    const { rows: trades } = await admin.pool.query('SELECT count(*)::int AS n FROM trade_records');
    expect(trades[0].n).toBe(4);
    const { allocations, lots } = await snapshotVersion(admin.pool, 1);
    expect(
      allocations.map((a) => [a.sell_order_id, a.buy_order_id, a.symbol, a.allocated_size, a.pnl_usd]),
    ).toEqual([
      [QUOTES_ID, DROP_TRADES_ID, DROP_SYMBOL, '1.5', '14.775'],
      [`${QUOTES_ID}-2`, DROP_TRADES_ID, DROP_SYMBOL, '0.5', '9.975'],
    ]);
    expect(lots.map((l) => [l.buy_order_id, l.symbol, l.remaining_size])).toEqual([
      [DROP_TRADES_ID, DROP_SYMBOL, '0'],
    ]);
    const { rows: rejected } = await admin.pool.query(
      'SELECT order_id, symbol, reason FROM fifo_rejected_trades',
    );
    expect(rejected).toEqual([
      { order_id: REJECTED_ID, symbol: DROP_SYMBOL, reason: expect.stringContaining('price') },
    ]);
    const { rows: remaining } = await admin.pool.query(
      'SELECT remaining_size FROM trade_records WHERE order_id = $1',
      [DROP_TRADES_ID],
    );
    expect(remaining[0].remaining_size).toBe(0);
  });

  it('computes exactly with a 1e-18 size, a 20-digit price and 1e300 amounts', async () => {
    // Why: sizes and prices are stored exactly as read; no float or overflow may bend an extreme but valid trade.
    // Prepare
    await insertBotTrades(admin.pool, VALID.slice(2));

    // Act
    const full = await runFullRebuild(job, { version: 1 });
    const reference = await runFullRebuild(admin, { version: 2 });

    // Assess
    expect(full).toMatchObject({ status: 'completed', rejectedTrades: 0 });
    expect(reference.status).toBe('completed');
    const { allocations } = await snapshotVersion(admin.pool, 1);
    const bySell = new Map(allocations.map((a) => [a.sell_order_id, a]));
    // float8 holds 12345678901234567890 as 1.2345678901234567e19, and 98765432109876543210 as 9.876543210987654e19.
    expect(bySell.get('tiny-sell')).toMatchObject({
      buy_order_id: 'tiny-buy',
      allocated_size: '0.000000000000000001',
      buy_price: '12345678901234567000',
      sell_price: '98765432109876540000',
      // 1e-18 x 1.2345678901234567e19 = 12.345678901234567, to 8 places.
      cost_basis_usd: '12.3456789',
      // 1e-18 x 9.876543210987654e19 = 98.76543210987654, to 8 places.
      proceeds_usd: '98.76543211',
      net_proceeds_usd: '98.76543211',
      pnl_usd: '86.41975321',
    });
    expect(bySell.get('huge-sell')).toMatchObject({
      buy_order_id: 'huge-buy',
      allocated_size: `1${'0'.repeat(300)}`,
      cost_basis_usd: `1${'0'.repeat(600)}`,
      proceeds_usd: `2${'0'.repeat(600)}`,
      pnl_usd: `1${'0'.repeat(600)}`,
    });
    expect(await snapshotVersion(admin.pool, 1)).toEqual(await snapshotVersion(admin.pool, 2));
  });

  it('excludes NaN, Infinity, negative and over-precise values, lists each with its reason and counts them', async () => {
    // Why: one unusable fill must not stop FIFO for every other trade, and must not vanish unseen either.
    // Prepare
    await insertBotTrades(admin.pool, [...VALID, ...BAD.slice(0, 4).map((b) => b.row)]);

    // Act
    const full = await runFullRebuild(job, { version: 1 });
    await insertBotTrades(
      admin.pool,
      BAD.slice(4).map((b) => b.row),
    );
    const incremental = await runIncremental(job, { version: 1 });
    const health = await readHealth(job.pool, 1);

    // Assess
    expect(full).toMatchObject({ status: 'completed', rejectedTrades: 4 });
    // 4 new bad rows, back-dated: replaying ETH-USD from there meets its 4 earlier bad rows again.
    expect(incremental).toMatchObject({ status: 'completed', rejectedTrades: 8 });
    expect(await tablesPresent()).toEqual(TABLES);
    const { rows } = await admin.pool.query<{ order_id: string; reason: string }>(
      'SELECT order_id, reason FROM fifo_rejected_trades',
    );
    const reasons = new Map(rows.map((r) => [r.order_id, r.reason]));
    expect([...reasons.keys()].sort()).toEqual(BAD.map((b) => b.row.order_id).sort());
    for (const { row, reason } of BAD) expect(reasons.get(row.order_id)).toContain(reason);
    expect(health.rejectedTrades).toBe(BAD.length);
    expect(health.pendingChanges).toBe(0);
    // The valid trades are all allocated, exactly as a clean rebuild allocates them.
    const { allocations } = await snapshotVersion(admin.pool, 1);
    expect(allocations.map((a) => a.sell_order_id).sort()).toEqual(
      ['huge-sell', 'tiny-sell', QUOTES_ID].sort(),
    );
    await runFullRebuild(admin, { version: 2 });
    expect(await snapshotVersion(admin.pool, 1)).toEqual(await snapshotVersion(admin.pool, 2));
  });
  it('counts the excluded rows in the RejectedTrades metric and in the daily report', async () => {
    // Why: the operator learns about bad rows from the alarm metrics and the daily mail, not from the table.
    // Prepare: the incremental Lambda logs in as the job role.
    await insertBotTrades(admin.pool, [...VALID, ...BAD.map((b) => b.row)]);
    await resetContainer();
    const secrets = useHandlerEnvironment(admin);
    secrets
      .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
      .resolves({ SecretString: secretFor(admin, { username: job.role }) });
    const stdout = captureStdout();

    try {
      // Act
      const result = await incrementalHandler({}, fakeContext('incremental'));
      const report = await runDailyReport(job, { version: 1 });

      // Assess
      expect(result).toMatchObject({ status: 'completed', fullRebuild: true });
      expect(single(stdout.metrics(), METRICS.rejectedTrades.name).values).toEqual([BAD.length]);
      expect(report.text).toContain(`${BAD.length} trades rejected (see fifo_rejected_trades)`);
      expect(report.verdict).toBe('WARNING');
    } finally {
      stdout.restore();
      secrets.restore();
      await resetContainer();
      vi.unstubAllEnvs();
    }
  });

  describe('the trade source rules (migrations/0006): fill rows, future times, mixed-case sides', () => {
    const ORDER = '7c0ffee0-0000-4000-8000-00000000000a';
    const BUY_ORDER = '7c0ffee0-0000-4000-8000-00000000000b';
    /** A fill whose order row never arrives, with SQL in its id. */
    const ORPHAN_FILL = `${DROP_TRADES_ID}-FILL-1`;

    /** The bot's rows: orders beside their per-fill rows, sides in any case, one fill orphaned, one time in the future. */
    async function botRows(): Promise<BotTrade[]> {
      const { rows } = await admin.pool.query<{ t: string }>(`SELECT (now() + interval '2 days')::text AS t`);
      return [
        trade('b1', 'ETH-USD', ' Buy', 1, '3000', '3'),
        { ...trade(ORDER, 'ETH-USD', 'SELL', 2, '3100', '1.5'), fee: '0.3' },
        { ...trade(`${ORDER}-FILL-1`, 'ETH-USD', 'sell', 2, '3100', '1'), fee: '0.2' },
        { ...trade(`${ORDER}-FILL-2`, 'ETH-USD', 'Sell ', 2, '3100', '0.5'), fee: '0.1' },
        trade(BUY_ORDER, 'ETH-USD', 'bUy', 3, '2900', '1'),
        trade(`${BUY_ORDER}-FILL-1`, 'ETH-USD', 'buy', 3, '2900', '1'),
        trade(ORPHAN_FILL, 'ETH-USD', 'sell', 4, '3000', '0.2'),
        { ...trade('future', 'ETH-USD', 'sell', 5, '3300', '1'), order_time: rows[0]!.t },
        trade('s2', 'ETH-USD', 'sell', 5, '3200', '2'),
      ];
    }

    it('count each order once, whatever order the bot writes the rows in, and list what they exclude', async () => {
      // Why: the bot writes orders and their fills in any order; incremental runs must never count a fill, twice or at all.
      for (const seed of [1, 2, 3]) {
        // Prepare: the rows in a seeded order, in three batches, an incremental run (as the job role) after each.
        await resetTables(admin.pool);
        const random = seededRandom(seed);
        const rows = (await botRows())
          .map((row) => ({ row, key: random() }))
          .sort((a, b) => a.key - b.key)
          .map((r) => r.row);

        // Act
        for (const batch of [rows.slice(0, 3), rows.slice(3, 6), rows.slice(6)]) {
          await insertBotTrades(admin.pool, batch);
          expect((await runIncremental(job, { version: 1 })).status).toBe('completed');
        }
        const check = await runFullRebuild(job, { version: 1 });
        const health = await readHealth(job.pool, 1);

        // Assess: the orders count, once; the fills never; the full rebuild found nothing to repair.
        expect(check.drift.rows).toBe(0);
        const { allocations } = await snapshotVersion(admin.pool, 1);
        expect(allocations.map((a) => [a.sell_order_id, a.buy_order_id, a.allocated_size])).toEqual([
          [ORDER, 'b1', '1.5'],
          ['s2', 'b1', '1.5'],
          ['s2', BUY_ORDER, '0.5'],
        ]);
        const { rows: rejected } = await admin.pool.query<{ order_id: string; reason: string }>(
          'SELECT order_id, reason FROM fifo_rejected_trades ORDER BY order_id COLLATE "C"',
        );
        expect(rejected).toEqual([
          { order_id: 'future', reason: expect.stringContaining('order_time is in the future') },
          { order_id: ORPHAN_FILL, reason: expect.stringContaining('per-fill row without its order row') },
        ]);
        expect(health.rejectedTrades).toBe(2);
        expect(await tablesPresent()).toEqual(TABLES);
        await runFullRebuild(admin, { version: 2 });
        expect(await snapshotVersion(admin.pool, 1)).toEqual(await snapshotVersion(admin.pool, 2));
      }
    });

    // to_char() of an infinite timestamptz is NULL: such a row once reached the engine with no
    // time and stopped every run. It must be rejected with a reason instead.
    it('rejects an order_time of infinity or -infinity, and keeps running', async () => {
      // Why: float8 and timestamptz both allow infinities; one such row must not stop FIFO for every trade.
      // Prepare
      await insertBotTrades(admin.pool, [
        trade('b1', 'BTC-USD', 'buy', 1, '100', '2'),
        { ...trade('at-infinity', 'BTC-USD', 'sell', 2, '100', '1'), order_time: 'infinity' },
        { ...trade('at-minus-infinity', 'BTC-USD', 'sell', 2, '100', '1'), order_time: '-infinity' },
      ]);

      // Act
      const full = await runFullRebuild(job, { version: 1 });

      // Assess
      expect(full).toMatchObject({ status: 'completed', rejectedTrades: 2 });
    });

    // Times are compared as text ('YYYY-...'), where a five-digit year would sort before
    // "2026-..." and pass the future check: years beyond 9999 are rejected before that.
    it('rejects a trade dated in the year 10000 as in the future', async () => {
      // Why: a corrupt year must be caught by the future rule, not allocated.
      // Prepare
      await insertBotTrades(admin.pool, [
        trade('b1', 'BTC-USD', 'buy', 1, '100', '2'),
        { ...trade('year-10000', 'BTC-USD', 'sell', 2, '100', '1'), order_time: '10000-01-01T00:00:00Z' },
      ]);

      // Act
      const full = await runFullRebuild(job, { version: 1 });

      // Assess
      expect(full).toMatchObject({ status: 'completed', rejectedTrades: 1 });
      const { rows } = await admin.pool.query('SELECT order_id, reason FROM fifo_rejected_trades');
      expect(rows).toEqual([
        { order_id: 'year-10000', reason: expect.stringContaining('order_time is in the future') },
      ]);
    });
  });
});
