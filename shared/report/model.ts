/**
 * The daily report's model: every figure the renderers show, read by SQL from the version's
 * allocations, lots, the trade source and the computation log, in one read-only snapshot.
 *
 * Money stays exact: sums are numeric in SQL and come back as decimal text (trim_scale);
 * ratios are computed from that text with decimal.js (./metrics.ts). Instants are canonical
 * UTC text. Nothing here reads the deprecated PnL columns of trade_records except the legacy
 * reconciliation (shared/legacy/legacy-vs-fifo.ts), which exists to compare them with FIFO.
 *
 * Window: sells with start < sell_time <= end (end = `now`, start = end - hours). Open
 * positions are the lots as they are now (fifo_lots keeps no history), their ages counted to
 * the window's end, marked to market by ./sections.ts. The health block is the machinery's
 * current state (readHealth), judged against the wall clock, whatever window the report covers.
 *
 * Beyond the key metrics (./sections.ts): exposure and unrealized PnL at market, strategy
 * attribution, sources, risk and capital, costs, holding times, roundtrips, big movers, the
 * previous window. Their optional inputs (price table, cash_transactions, trigger, source) are
 * found in the catalog first (./inputs.ts); a section whose input is unusable says what it needs.
 */
import type pg from 'pg';
import { ALLOCATION_SELECT } from '../db/allocations.ts';
import type { Database } from '../db/pool.ts';
import { numericText, utcText } from '../db/sql.ts';
import type { AllocationRow } from '../fifo/index.ts';
import { type Health, readHealth } from '../jobs/health.ts';
import { compareLegacyPnl, type LegacyPnlRow } from '../legacy/legacy-vs-fifo.ts';
import { localDate } from '../util/format.ts';
import { DEFAULT_SETTINGS, type ReportSettings } from './config.ts';
import { compare, Exact } from './exact.ts';
import { findTradeInputs, type Usable } from './inputs.ts';
import { derivePerformance, emptyAggregates, type Performance, type SellAggregates } from './metrics.ts';
import {
  type Attribution,
  type CostsSection,
  type HoldingStats,
  type MarketSection,
  type Mover,
  type PositionInput,
  type RiskSection,
  type RoundtripSection,
  readAttribution,
  readCosts,
  readHolding,
  readMarket,
  readMovers,
  readRisk,
  readRoundtrips,
  readSources,
  type SourceRow,
  type Span,
  type StrategyRow,
} from './sections.ts';
import { readTaxYtd, type TaxYtd } from './tax-ytd.ts';
import {
  ageSeconds,
  type HealthThresholds,
  judgeHealth,
  type Verdict,
  type VerdictReason,
} from './verdict.ts';

export interface ReportModelOptions {
  readonly version: number;
  /** Window length in hours, ending at `now`. @default 24 */
  readonly hours?: number;
  /** IANA zone for day boundaries (chart buckets, dates shown). @default 'UTC' */
  readonly timeZone?: string;
  /** End of the window. @default the current time */
  readonly now?: Date;
  /** Days in the charts, ending with the local day of `now`. @default 30 */
  readonly chartDays?: number;
  readonly thresholds?: HealthThresholds;
  /** The sections' settings (price table, starting equity, fee rates, ...). @default DEFAULT_SETTINGS */
  readonly settings?: ReportSettings;
}

export interface ReportWindow {
  /** Exclusive, canonical UTC text. */
  readonly start: string;
  /** Inclusive, canonical UTC text. */
  readonly end: string;
  readonly hours: number;
  readonly timeZone: string;
  /** The local calendar date of the end: the report's date. */
  readonly date: string;
}

export interface SymbolPerformance extends Performance {
  readonly symbol: string;
}

export interface ChartDay {
  /** Local calendar date in the report's zone. */
  readonly date: string;
  /** Σ pnl_usd of the sells of that day, exact. */
  readonly pnl: string;
  /**
   * All-time realized PnL at the end of that day (sells before the chart included), exact: the
   * last day's equals allTime.realizedPnl.
   */
  readonly cumulative: string;
  /** Starting equity + cumulative; null when the starting equity is unknown. */
  readonly equity: string | null;
}

/** A symbol's open lots, summed (its fields: sections.ts). */
export type OpenPosition = PositionInput;

export interface UnmatchedSell {
  readonly sellOrderId: string;
  readonly symbol: string;
  readonly sellTime: string;
  /** Size with no open lot. */
  readonly unmatchedSize: string;
  /** The whole sell's size. */
  readonly sellSize: string;
  readonly sellPrice: string;
  /** Gross and net proceeds of the unmatched part: realized PnL has no cost for them. */
  readonly proceeds: string;
  readonly netProceeds: string;
  readonly notes: string | null;
}

/** A sell's legacy vs FIFO PnL; the report reads the live columns only, so no source is shown. */
export type LegacyRow = Omit<LegacyPnlRow, 'source'>;

export interface LegacyReconciliation {
  /** The legacy columns found on trade_records, e.g. ['pnl_usd', 'realized_profit']. */
  readonly columns: string[];
  /** Sells in the window with a legacy value, largest |difference| first. */
  readonly rows: LegacyRow[];
  /** Sells in the window without a legacy value (not compared). */
  readonly withoutLegacy: number;
  readonly legacyTotal: string;
  readonly fifoTotal: string;
  /** fifoTotal - legacyTotal over the compared sells. */
  readonly totalDifference: string;
}

export interface ReportHealth {
  readonly verdict: Verdict;
  readonly reasons: VerdictReason[];
  readonly status: Health;
  readonly failedRunsInWindow: number;
}

export interface ReportModel {
  readonly version: number;
  readonly window: ReportWindow;
  /** When the model was read (wall clock), canonical UTC text; health ages count from it. */
  readonly generatedAt: string;
  readonly allTime: { readonly realizedPnl: string; readonly sells: number };
  readonly metrics: Performance;
  /** Symbols with a sell or a buy in the window, best realized PnL first. */
  readonly bySymbol: SymbolPerformance[];
  readonly chart: {
    readonly days: ChartDay[];
    readonly timeZone: string;
    /** Realized PnL of the sells before the chart's first day. */
    readonly before: string;
  };
  readonly openPositions: OpenPosition[];
  /** The sections' settings the model was built with. */
  readonly settings: ReportSettings;
  /** Open positions marked to market: exposure and unrealized PnL. */
  readonly market: MarketSection;
  /** Short- and long-term realized PnL of the local year so far; lots turning long-term soon. */
  readonly taxYtd: TaxYtd;
  /** Realized PnL by entry and exit trigger. */
  readonly attribution: Attribution;
  /** Buys, sells and realized PnL by trade_records.source. */
  readonly sources: Usable<SourceRow[]>;
  readonly risk: RiskSection;
  readonly costs: CostsSection;
  /** Overall first (symbol null), then per symbol. */
  readonly holding: HoldingStats[];
  readonly roundtrips: RoundtripSection;
  /** The best and worst sells of the window, each with its `fifo explain` command. */
  readonly movers: { readonly best: Mover[]; readonly worst: Mover[] };
  /** The same figures over the window before this one (day over day, for a 24 h report). */
  readonly previous: { readonly start: string; readonly end: string; readonly metrics: Performance };
  /** The entry strategies with the highest and the lowest realized PnL (null when none). */
  readonly strategies: { readonly best: StrategyRow | null; readonly worst: StrategyRow | null };
  readonly unmatchedSells: UnmatchedSell[];
  readonly health: ReportHealth;
  /** Null when trade_records has no legacy PnL column any more. */
  readonly legacy: LegacyReconciliation | null;
  /** Allocation rows of the window's sells: the CSV attachment's rows. */
  readonly allocationsInWindow: number;
  /** Those rows, exact text, in sell order (sell_time, sell, lot time, lot). */
  readonly allocations: AllocationRow[];
}

type Queryable = pg.ClientBase;

/** Exact decimal text of a numeric expression, '0' for NULL. */
const dec = (expression: string) => `coalesce(trim_scale(${expression}), 0)::text`;

interface AggregateRow {
  symbol: string | null;
  sells: string;
  wins: string;
  losses: string;
  breakeven: string;
  unmatched: string;
  realized: string;
  gross_profit: string;
  gross_loss: string;
  unmatched_pnl: string;
  sell_fees: string;
}

/** Per sell (one result each), then per symbol with a ROLLUP row (symbol NULL) for the total. */
async function readSellAggregates(q: Queryable, version: number, start: string, end: string) {
  const { rows } = await q.query<AggregateRow>(
    `WITH sells AS (
       SELECT symbol, sell_order_id,
              bool_or(buy_order_id IS NULL) AS has_unmatched,
              sum(pnl_usd) AS pnl,
              sum(proceeds_usd - net_proceeds_usd) AS fees
       FROM fifo_allocations
       WHERE allocation_version = $1 AND sell_time > $2::timestamptz AND sell_time <= $3::timestamptz
       GROUP BY symbol, sell_order_id
     )
     SELECT symbol,
            count(*)::text AS sells,
            count(*) FILTER (WHERE NOT has_unmatched AND pnl > 0)::text AS wins,
            count(*) FILTER (WHERE NOT has_unmatched AND pnl < 0)::text AS losses,
            count(*) FILTER (WHERE NOT has_unmatched AND pnl = 0)::text AS breakeven,
            count(*) FILTER (WHERE has_unmatched)::text AS unmatched,
            ${dec('sum(pnl)')} AS realized,
            ${dec('sum(pnl) FILTER (WHERE NOT has_unmatched AND pnl > 0)')} AS gross_profit,
            ${dec('sum(pnl) FILTER (WHERE NOT has_unmatched AND pnl < 0)')} AS gross_loss,
            ${dec('sum(pnl) FILTER (WHERE has_unmatched)')} AS unmatched_pnl,
            ${dec('sum(fees)')} AS sell_fees
     FROM sells
     GROUP BY ROLLUP (symbol)`,
    [version, start, end],
  );
  return rows;
}

/**
 * Fees of the buys whose lots opened in the window, per symbol plus a total row. The fee is
 * read exactly from the trade source (float8 as text); only buys the engine turned into lots
 * of this version count.
 */
async function readBuyFees(q: Queryable, version: number, start: string, end: string) {
  const { rows } = await q.query<{ symbol: string | null; fees: string }>(
    `SELECT l.symbol, ${dec('sum(s.fee::numeric)')} AS fees
     FROM fifo_lots l
     JOIN fifo_trade_source s ON s.order_id = l.buy_order_id
     WHERE l.allocation_version = $1 AND l.buy_time > $2::timestamptz AND l.buy_time <= $3::timestamptz
       -- float8 text of a finite number; NaN or Infinity would poison the sum
       AND s.fee ~* '^-?[0-9]+(\\.[0-9]+)?(e[-+]?[0-9]+)?$'
     GROUP BY ROLLUP (l.symbol)`,
    [version, start, end],
  );
  return rows;
}

const toAggregates = (row: AggregateRow | undefined, buyFees: string): SellAggregates =>
  row
    ? {
        sells: Number(row.sells),
        wins: Number(row.wins),
        losses: Number(row.losses),
        breakeven: Number(row.breakeven),
        unmatched: Number(row.unmatched),
        realizedPnl: row.realized,
        grossProfit: row.gross_profit,
        grossLoss: row.gross_loss,
        unmatchedSellsPnl: row.unmatched_pnl,
        sellFees: row.sell_fees,
        buyFees,
      }
    : { ...emptyAggregates(), buyFees };

async function readChart(q: Queryable, version: number, end: string, timeZone: string, days: number) {
  const { rows } = await q.query<Omit<ChartDay, 'equity'> & { before: string }>(
    `WITH bounds AS (
       SELECT date_trunc('day', $2::timestamptz AT TIME ZONE $3) AS last_day,
              date_trunc('day', $2::timestamptz AT TIME ZONE $3) - ($4::int - 1) * interval '1 day' AS first_day
     ),
     days AS (
       SELECT generate_series(first_day, last_day, interval '1 day') AS day FROM bounds
     ),
     before AS (
       SELECT coalesce(sum(a.pnl_usd), 0) AS pnl
       FROM fifo_allocations a CROSS JOIN bounds b
       WHERE a.allocation_version = $1 AND a.sell_time < (b.first_day AT TIME ZONE $3)
     ),
     daily AS (
       SELECT date_trunc('day', a.sell_time AT TIME ZONE $3) AS day, sum(a.pnl_usd) AS pnl
       FROM fifo_allocations a CROSS JOIN bounds b
       WHERE a.allocation_version = $1
         AND a.sell_time >= (b.first_day AT TIME ZONE $3) AND a.sell_time <= $2::timestamptz
       GROUP BY 1
     )
     SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
            ${dec('y.pnl')} AS pnl,
            ${dec('(SELECT pnl FROM before) + sum(coalesce(y.pnl, 0)) OVER (ORDER BY d.day)')} AS cumulative,
            ${dec('(SELECT pnl FROM before)')} AS before
     FROM days d LEFT JOIN daily y ON y.day = d.day
     ORDER BY d.day`,
    [version, end, timeZone, days],
  );
  return rows;
}

async function readOpenPositions(q: Queryable, version: number, now: Date): Promise<OpenPosition[]> {
  const { rows } = await q.query<{
    symbol: string;
    lots: string;
    size: string;
    cost: string;
    average: string;
    oldest: string;
  }>(
    `SELECT symbol, count(*)::text AS lots,
            ${numericText('sum(remaining_size)')} AS size,
            ${dec('sum(remaining_cost_usd)')} AS cost,
            ${numericText('round(sum(remaining_cost_usd) / sum(remaining_size), 12)')} AS average,
            ${utcText('min(buy_time)')} AS oldest
     FROM fifo_lots
     WHERE allocation_version = $1 AND remaining_size > 0
     GROUP BY symbol
     ORDER BY sum(remaining_cost_usd) DESC, symbol`,
    [version],
  );
  return rows.map((r) => ({
    symbol: r.symbol,
    lots: Number(r.lots),
    size: r.size,
    costBasis: r.cost,
    averageCost: r.average,
    oldestLotTime: r.oldest,
    oldestLotAgeSeconds: ageSeconds(r.oldest, now),
  }));
}

async function readUnmatchedSells(q: Queryable, version: number, start: string, end: string) {
  const { rows } = await q.query<{
    sell_order_id: string;
    symbol: string;
    sell_time: string;
    unmatched_size: string;
    sell_size: string;
    sell_price: string;
    proceeds: string;
    net_proceeds: string;
    notes: string | null;
  }>(
    `SELECT u.sell_order_id, u.symbol, ${utcText('u.sell_time')} AS sell_time,
            ${numericText('u.allocated_size')} AS unmatched_size,
            (SELECT ${numericText('sum(a.allocated_size)')} FROM fifo_allocations a
             WHERE a.allocation_version = u.allocation_version AND a.sell_order_id = u.sell_order_id) AS sell_size,
            ${numericText('u.sell_price')} AS sell_price,
            ${numericText('u.proceeds_usd')} AS proceeds, ${numericText('u.net_proceeds_usd')} AS net_proceeds,
            u.notes
     FROM fifo_allocations u
     WHERE u.allocation_version = $1 AND u.buy_order_id IS NULL
       AND u.sell_time > $2::timestamptz AND u.sell_time <= $3::timestamptz
     ORDER BY u.sell_time, u.sell_order_id COLLATE "C"`,
    [version, start, end],
  );
  return rows.map(
    (r): UnmatchedSell => ({
      sellOrderId: r.sell_order_id,
      symbol: r.symbol,
      sellTime: r.sell_time,
      unmatchedSize: r.unmatched_size,
      sellSize: r.sell_size,
      sellPrice: r.sell_price,
      proceeds: r.proceeds,
      netProceeds: r.net_proceeds,
      notes: r.notes,
    }),
  );
}

/**
 * Legacy vs FIFO per sell in the window, where trade_records still has a legacy PnL column
 * (shared/legacy/legacy-vs-fifo.ts, which `fifo reconcile` also uses). The report reads the live
 * columns only: once `fifo legacy archive` has moved the values, `fifo reconcile` reads them
 * from the archive.
 */
async function readLegacy(
  q: Queryable,
  version: number,
  start: string,
  end: string,
): Promise<LegacyReconciliation | null> {
  const comparison = await compareLegacyPnl(q, { version, start, end, archive: false });
  if (comparison === null) return null;
  return {
    columns: comparison.columns,
    rows: comparison.rows.map(({ source: _source, ...row }) => row),
    withoutLegacy: comparison.withoutLegacy,
    legacyTotal: comparison.legacyTotal,
    fifoTotal: comparison.fifoTotal,
    totalDifference: comparison.totalDifference,
  };
}

async function readWindowAllocations(q: Queryable, version: number, start: string, end: string) {
  const { rows } = await q.query<AllocationRow>(
    `SELECT ${ALLOCATION_SELECT} FROM fifo_allocations
     WHERE allocation_version = $1 AND sell_time > $2::timestamptz AND sell_time <= $3::timestamptz
     ORDER BY sell_time, sell_order_id COLLATE "C", buy_time NULLS LAST, buy_order_id COLLATE "C"`,
    [version, start, end],
  );
  return rows;
}

/** The named entry strategies with the highest and the lowest realized PnL (two or more to rank). */
function rankStrategies(attribution: Attribution): ReportModel['strategies'] {
  if (!attribution.entry.ok) return { best: null, worst: null };
  const named = attribution.entry.value
    .filter((r) => r.kind === 'named' || r.kind === 'none')
    .sort((a, b) => compare(b.realizedPnl, a.realizedPnl));
  if (named.length === 0) return { best: null, worst: null };
  return { best: named[0]!, worst: named.length > 1 ? named.at(-1)! : null };
}

/**
 * Builds the model. The figures come from one REPEATABLE READ, read-only snapshot, so they
 * agree with each other and with the CSV; the health block is read right after it.
 */
export async function buildReportModel(db: Database, options: ReportModelOptions): Promise<ReportModel> {
  const now = options.now ?? new Date();
  const hours = options.hours ?? 24;
  const timeZone = options.timeZone ?? 'UTC';
  const chartDays = options.chartDays ?? 30;
  if (!(hours > 0)) throw new RangeError(`the report window must be positive, got ${hours} hours`);
  if (!Number.isInteger(chartDays) || chartDays < 1)
    throw new RangeError('chartDays must be a whole number >= 1');
  const end = now.toISOString();
  const start = new Date(now.getTime() - hours * 3_600_000).toISOString();
  const version = options.version;
  const settings = options.settings ?? DEFAULT_SETTINGS;

  const client = await db.pool.connect();
  let released = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const aggregates = await readSellAggregates(client, version, start, end);
    const buyFees = await readBuyFees(client, version, start, end);
    const { rows: allTime } = await client.query<{ pnl: string; sells: string }>(
      `SELECT ${dec('sum(pnl_usd)')} AS pnl, count(DISTINCT sell_order_id)::text AS sells
       FROM fifo_allocations WHERE allocation_version = $1 AND sell_time <= $2::timestamptz`,
      [version, end],
    );
    const allocations = await readWindowAllocations(client, version, start, end);
    const chart = await readChart(client, version, end, timeZone, chartDays);
    const openPositions = await readOpenPositions(client, version, now);
    const unmatchedSells = await readUnmatchedSells(client, version, start, end);
    const legacy = await readLegacy(client, version, start, end);
    const span: Span = { version, start, end };
    const previousStart = new Date(Date.parse(start) - hours * 3_600_000).toISOString();
    const previousAggregates = await readSellAggregates(client, version, previousStart, start);
    const previousBuyFees = await readBuyFees(client, version, previousStart, start);
    const inputs = await findTradeInputs(client);
    const attribution = await readAttribution(client, span, inputs);
    const sources = await readSources(client, span, inputs);
    const market = await readMarket(client, span, openPositions, settings);
    const marks = new Map(
      market.positions.flatMap((p) => (p.mark ? [[p.symbol, p.mark.price] as const] : [])),
    );
    const taxYtd = await readTaxYtd(client, { version, end, timeZone, marks });
    const allTimeRealized = allTime[0]!.pnl;
    const risk = await readRisk(client, span, { allTimeRealized, market, settings });
    const metrics = derivePerformance(
      toAggregates(
        aggregates.find((r) => r.symbol === null),
        buyFees.find((f) => f.symbol === null)?.fees ?? '0',
      ),
    );
    const costs = await readCosts(
      client,
      span,
      { buyFees: metrics.buyFees, sellFees: metrics.sellFees, fees: metrics.fees },
      settings,
    );
    const holding = await readHolding(client, span);
    const roundtrips = await readRoundtrips(client, span, settings.roundtripSeconds);
    const movers = await readMovers(client, span);
    const { rows: failed } = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM fifo_computation_log
       WHERE fifo_ledger_run AND allocation_version = $1 AND status = 'failed' AND NOT dry_run
         AND computation_start > $2::timestamptz AND computation_start <= $3::timestamptz`,
      [version, start, end],
    );
    await client.query('COMMIT');
    client.release();
    released = true;
    // After the snapshot, through the pool: readHealth runs its queries concurrently, and the
    // embedded database has a single connection, which this function no longer holds.
    const status = await readHealth(db.pool, version);

    const feesOf = (symbol: string | null) => buyFees.find((f) => f.symbol === symbol)?.fees ?? '0';
    const symbols = new Set<string>([
      ...aggregates.flatMap((r) => (r.symbol === null ? [] : [r.symbol])),
      ...buyFees.flatMap((r) => (r.symbol === null ? [] : [r.symbol])),
    ]);
    const bySymbol = [...symbols]
      .map((symbol) => ({
        symbol,
        ...derivePerformance(
          toAggregates(
            aggregates.find((r) => r.symbol === symbol),
            feesOf(symbol),
          ),
        ),
      }))
      .sort((a, b) => compare(b.realizedPnl, a.realizedPnl) || (a.symbol < b.symbol ? -1 : 1));
    const unmatchedSellIds = new Set(unmatchedSells.map((u) => u.sellOrderId));
    const failedRunsInWindow = Number(failed[0]!.n);
    // Health is the machinery's state as read now, whatever window the report covers.
    const generatedAt = new Date();
    const judged = judgeHealth({
      health: status,
      now: generatedAt,
      unmatchedSellsInWindow: unmatchedSellIds.size,
      failedRunsInWindow,
      thresholds: options.thresholds,
    });
    return {
      version,
      window: { start, end, hours, timeZone, date: localDate(now, timeZone) },
      generatedAt: generatedAt.toISOString(),
      allTime: { realizedPnl: allTime[0]!.pnl, sells: Number(allTime[0]!.sells) },
      metrics,
      bySymbol,
      chart: {
        days: chart.map(({ before: _before, ...day }) => ({
          ...day,
          equity:
            risk.startingEquity.source === 'none'
              ? null
              : new Exact(risk.startingEquity.amount).plus(day.cumulative).toFixed(),
        })),
        timeZone,
        before: chart[0]?.before ?? '0',
      },
      openPositions,
      settings,
      market,
      taxYtd,
      attribution,
      sources,
      risk,
      costs,
      holding,
      roundtrips,
      movers,
      previous: {
        start: previousStart,
        end: start,
        metrics: derivePerformance(
          toAggregates(
            previousAggregates.find((r) => r.symbol === null),
            previousBuyFees.find((f) => f.symbol === null)?.fees ?? '0',
          ),
        ),
      },
      strategies: rankStrategies(attribution),
      unmatchedSells,
      health: { ...judged, status, failedRunsInWindow },
      legacy,
      allocationsInWindow: allocations.length,
      allocations,
    };
  } catch (error) {
    if (!released) {
      // A connection that cannot even roll back is broken: discard it rather than pool it.
      const healthy = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      client.release(healthy ? undefined : true);
      released = true;
    }
    throw error;
  } finally {
    if (!released) client.release();
  }
}
