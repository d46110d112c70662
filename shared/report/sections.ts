/**
 * The sections of the daily report beyond the key metrics: exposure and unrealized PnL at
 * market, strategy attribution (entry and exit trigger), PnL by source, risk and capital
 * (equity curve, drawdown, cash, invested %), costs and break-even moves, holding times,
 * near-instant roundtrips and the big movers. Each reader takes the report's snapshot
 * connection; sums are numeric in SQL and come back as exact text, the rest is exact decimal
 * arithmetic (./exact.ts).
 *
 * Every reader of an optional input (./inputs.ts) returns `Usable`: the rows, or what the
 * section needs on this database.
 */
import type pg from 'pg';
import { ALLOCATION_SELECT } from '../db/allocations.ts';
import { utcText } from '../db/sql.ts';
import type { AllocationRow } from '../fifo/index.ts';
import type { ReportSettings } from './config.ts';
import { compare, Exact, minus, ratio, sum, times } from './exact.ts';
import {
  attempt,
  type CashTotals,
  findPriceTable,
  type NameExpression,
  readCashTransactions,
  type TradeInputs,
  type Usable,
} from './inputs.ts';
import { breakEvenMove, deriveResults, type Results } from './metrics.ts';

type Queryable = pg.ClientBase;

/** Exact decimal text of a numeric expression, '0' for NULL. */
const dec = (expression: string) => `coalesce(trim_scale(${expression}), 0)::text`;

/** The report's window: version, exclusive start, inclusive end (canonical UTC text). */
export interface Span {
  readonly version: number;
  readonly start: string;
  readonly end: string;
}

const IN_WINDOW = `a.allocation_version = $1 AND a.sell_time > $2::timestamptz AND a.sell_time <= $3::timestamptz`;

// ---------------------------------------------------------------------------------------------
// Exposure and unrealized PnL at market

export interface Mark {
  readonly price: string;
  /** Canonical UTC text. */
  readonly at: string;
  readonly source: 'price table' | 'last fill';
  /** Seconds from the mark to the report's end. */
  readonly ageSeconds: number;
  /** Older than the stale-mark threshold. */
  readonly stale: boolean;
}

/** A symbol's open lots, summed: the report's open positions (model.ts's OpenPosition). */
export interface PositionInput {
  readonly symbol: string;
  readonly lots: number;
  readonly size: string;
  /** Σ remaining cost, exact. */
  readonly costBasis: string;
  /** costBasis / size to 12 decimal places (display only). */
  readonly averageCost: string;
  readonly oldestLotTime: string;
  readonly oldestLotAgeSeconds: number;
}

export interface MarkedPosition extends PositionInput {
  /** Null when the symbol has neither a price row nor a fill to mark it with. */
  readonly mark: Mark | null;
  /** size × mark, exact. */
  readonly marketValue: string | null;
  /** marketValue - costBasis, exact. */
  readonly unrealizedPnl: string | null;
}

export interface MarketSection {
  /** Where the marks come from: the configured table, or each symbol's last fill. */
  readonly priceTable: string | null;
  /** The configured price table could not be used: what it needs (marks fall back to last fills). */
  readonly priceTableNeeds: string | null;
  readonly staleMarkMinutes: number;
  readonly positions: MarkedPosition[];
  readonly totals: {
    readonly costBasis: string;
    /** Of the marked positions. */
    readonly marketValue: string;
    readonly unrealizedPnl: string;
    /** Cost basis of the positions without a mark (valued at cost in exposure). */
    readonly unmarkedCost: string;
    readonly unmarked: number;
    readonly stale: number;
  };
}

const ageAt = (iso: string, end: string) => Math.max(0, (Date.parse(end) - Date.parse(iso)) / 1000);

/** Marks each open position: the price table's latest row at or before the end, else the last fill. */
export async function readMarket(
  q: Queryable,
  span: Span,
  positions: readonly PositionInput[],
  settings: ReportSettings,
): Promise<MarketSection> {
  const symbols = positions.map((p) => p.symbol);
  const fromTable = new Map<string, { price: string; at: string }>();
  let priceTable: string | null = null;
  let priceTableNeeds: string | null = null;
  // A configured table is checked even on a day without positions: a broken setting is news.
  if (settings.priceTable !== null) {
    const table = await findPriceTable(q, settings.priceTable);
    if (!table.ok) priceTableNeeds = table.needs;
    else if (symbols.length === 0) priceTable = table.value.sql;
    else {
      const read = await attempt(q, async () => {
        const { rows } = await q.query<{ symbol: string; price: string | null; at: string }>(
          `SELECT m.symbol, trim_scale(m.price)::text AS price, ${utcText('m.as_of')} AS at
           FROM (${table.value.latestSql}) m`,
          [span.end, symbols],
        );
        return rows;
      });
      if (!read.ok) priceTableNeeds = `${table.value.sql} could not be read: ${read.needs}`;
      else {
        priceTable = table.value.sql;
        for (const r of read.value)
          if (r.price !== null) fromTable.set(r.symbol, { price: r.price, at: r.at });
      }
    }
  }
  // The last fill of each symbol at or before the end: one index probe per symbol.
  const { rows: fills } = await q.query<{ symbol: string; price: string; at: string }>(
    `SELECT s.symbol, trim_scale(f.price::numeric)::text AS price, ${utcText('f.order_time')} AS at
     FROM unnest($2::text[]) AS s(symbol)
     CROSS JOIN LATERAL (
       SELECT t.price, t.order_time FROM fifo_trade_source t
       WHERE t.symbol = s.symbol AND t.order_time <= $1::timestamptz
         AND t.price ~* '^[0-9]+(\\.[0-9]*)?(e[-+]?[0-9]+)?$' AND t.price::numeric > 0
       ORDER BY t.order_time DESC, t.order_id COLLATE "C" DESC LIMIT 1
     ) f`,
    [span.end, symbols],
  );
  const lastFill = new Map(fills.map((f) => [f.symbol, f]));
  const staleAfter = settings.staleMarkMinutes * 60;
  const marked = positions.map((p): MarkedPosition => {
    const table = fromTable.get(p.symbol);
    const fill = lastFill.get(p.symbol);
    const chosen = table
      ? { ...table, source: 'price table' as const }
      : fill
        ? { price: fill.price, at: fill.at, source: 'last fill' as const }
        : null;
    const mark = chosen
      ? { ...chosen, ageSeconds: ageAt(chosen.at, span.end), stale: ageAt(chosen.at, span.end) > staleAfter }
      : null;
    const marketValue = mark ? times(p.size, mark.price) : null;
    return {
      ...p,
      mark,
      marketValue,
      unrealizedPnl: marketValue === null ? null : minus(marketValue, p.costBasis),
    };
  });
  const withMark = marked.filter((p) => p.mark !== null);
  return {
    priceTable,
    priceTableNeeds,
    staleMarkMinutes: settings.staleMarkMinutes,
    positions: marked.sort(
      (a, b) =>
        compare(b.marketValue ?? b.costBasis, a.marketValue ?? a.costBasis) || (a.symbol < b.symbol ? -1 : 1),
    ),
    totals: {
      costBasis: sum(marked.map((p) => p.costBasis)),
      marketValue: sum(withMark.map((p) => p.marketValue!)),
      unrealizedPnl: sum(withMark.map((p) => p.unrealizedPnl!)),
      unmarkedCost: sum(marked.filter((p) => p.mark === null).map((p) => p.costBasis)),
      unmarked: marked.length - withMark.length,
      stale: withMark.filter((p) => p.mark!.stale).length,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Strategy attribution and sources

/**
 * What a group is: a named strategy or source, a trade whose value is empty ('none'), a trade
 * no longer in trade_records ('not found'), or, for entries, the unmatched part of sells.
 */
export type GroupKind = 'named' | 'none' | 'not found' | 'unmatched';

export interface StrategyRow extends Results {
  readonly kind: GroupKind;
  /** The trigger's name when kind is 'named'. */
  readonly name: string | null;
}

export interface Attribution {
  /** By the buy's trigger, slice by slice: one result per sell and entry trigger. */
  readonly entry: Usable<StrategyRow[]>;
  /** By the sell's trigger: one result per sell. */
  readonly exit: Usable<StrategyRow[]>;
  /** How the trigger was read on this database, when not the bot's jsonb. */
  readonly note: string | null;
}

const KIND_ORDER: Record<GroupKind, number> = { named: 0, none: 1, 'not found': 2, unmatched: 3 };

const byGroup = <T extends { kind: GroupKind; name: string | null; realizedPnl: string }>(a: T, b: T) =>
  KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
  compare(b.realizedPnl, a.realizedPnl) ||
  ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : 0);

/** SQL classifying a joined trade `t` by a name expression. */
const kindSql = (name: string) =>
  `CASE WHEN t.order_id IS NULL THEN 'not found' WHEN (${name}) IS NULL THEN 'none' ELSE 'named' END`;

interface StrategySqlRow {
  kind: GroupKind;
  name: string | null;
  sells: string;
  wins: string;
  losses: string;
  breakeven: string;
  unmatched: string;
  realized: string;
  gross_profit: string;
  gross_loss: string;
  unmatched_pnl: string;
}

async function readStrategies(
  q: Queryable,
  span: Span,
  side: 'entry' | 'exit',
  expression: NameExpression,
): Promise<StrategyRow[]> {
  const join = side === 'entry' ? 'a.buy_order_id' : 'a.sell_order_id';
  const name = expression('t');
  // An entry's unmatched slice has no buy, hence no trigger: its own group.
  const kind =
    side === 'entry'
      ? `CASE WHEN a.buy_order_id IS NULL THEN 'unmatched' ELSE ${kindSql(name)} END`
      : kindSql(name);
  const { rows } = await q.query<StrategySqlRow>(
    `WITH a AS (
       SELECT a.sell_order_id, a.buy_order_id, a.pnl_usd,
              bool_or(a.buy_order_id IS NULL) OVER (PARTITION BY a.sell_order_id) AS has_unmatched
       FROM fifo_allocations a WHERE ${IN_WINDOW}
     ),
     g AS (
       SELECT ${kind} AS kind, CASE WHEN t.order_id IS NULL THEN NULL ELSE ${name} END AS name,
              a.sell_order_id, bool_or(a.has_unmatched) AS has_unmatched, sum(a.pnl_usd) AS pnl
       FROM a LEFT JOIN trade_records t ON t.order_id = ${join}
       GROUP BY 1, 2, a.sell_order_id
     )
     SELECT kind, CASE WHEN kind = 'named' THEN name END AS name,
            count(*)::text AS sells,
            count(*) FILTER (WHERE NOT has_unmatched AND pnl > 0)::text AS wins,
            count(*) FILTER (WHERE NOT has_unmatched AND pnl < 0)::text AS losses,
            count(*) FILTER (WHERE NOT has_unmatched AND pnl = 0)::text AS breakeven,
            count(*) FILTER (WHERE has_unmatched)::text AS unmatched,
            ${dec('sum(pnl)')} AS realized,
            ${dec('sum(pnl) FILTER (WHERE NOT has_unmatched AND pnl > 0)')} AS gross_profit,
            ${dec('sum(pnl) FILTER (WHERE NOT has_unmatched AND pnl < 0)')} AS gross_loss,
            ${dec('sum(pnl) FILTER (WHERE has_unmatched)')} AS unmatched_pnl
     FROM g
     GROUP BY 1, 2`,
    [span.version, span.start, span.end],
  );
  return rows
    .map((r) =>
      deriveResults({
        kind: r.kind,
        name: r.name,
        sells: Number(r.sells),
        wins: Number(r.wins),
        losses: Number(r.losses),
        breakeven: Number(r.breakeven),
        unmatched: Number(r.unmatched),
        realizedPnl: r.realized,
        grossProfit: r.gross_profit,
        grossLoss: r.gross_loss,
        unmatchedSellsPnl: r.unmatched_pnl,
      }),
    )
    .sort(byGroup);
}

export async function readAttribution(q: Queryable, span: Span, inputs: TradeInputs): Promise<Attribution> {
  if (!inputs.trigger.ok) {
    return { entry: inputs.trigger, exit: inputs.trigger, note: null };
  }
  const expression = inputs.trigger.value.expression;
  return {
    entry: await attempt(q, () => readStrategies(q, span, 'entry', expression)),
    exit: await attempt(q, () => readStrategies(q, span, 'exit', expression)),
    note: inputs.trigger.value.note,
  };
}

export interface SourceRow {
  readonly kind: Exclude<GroupKind, 'unmatched'>;
  readonly name: string | null;
  /** Buys of this source whose lots opened in the window. */
  readonly buys: number;
  /** Sells of this source in the window. */
  readonly sells: number;
  /** Realized PnL of those sells. */
  readonly realizedPnl: string;
  /** Realized PnL of the window's lot slices whose buy had this source (the bot's attribution). */
  readonly entryPnl: string;
}

export async function readSources(
  q: Queryable,
  span: Span,
  inputs: TradeInputs,
): Promise<Usable<SourceRow[]>> {
  if (!inputs.source.ok) return inputs.source;
  const name = inputs.source.value.expression('t');
  const kind = kindSql(name);
  const group = `${kind} AS kind, CASE WHEN t.order_id IS NULL THEN NULL ELSE ${name} END AS name`;
  return attempt(q, async () => {
    const { rows } = await q.query<{
      kind: SourceRow['kind'];
      name: string | null;
      buys: string;
      sells: string;
      realized: string;
      entry: string;
    }>(
      `WITH a AS (SELECT a.sell_order_id, a.buy_order_id, a.pnl_usd FROM fifo_allocations a WHERE ${IN_WINDOW}),
       exits AS (
         SELECT ${group}, count(*) AS sells, sum(s.pnl) AS pnl
         FROM (SELECT sell_order_id, sum(pnl_usd) AS pnl FROM a GROUP BY sell_order_id) s
         LEFT JOIN trade_records t ON t.order_id = s.sell_order_id
         GROUP BY 1, 2
       ),
       entries AS (
         SELECT ${group}, sum(a.pnl_usd) AS pnl
         FROM a LEFT JOIN trade_records t ON t.order_id = a.buy_order_id
         WHERE a.buy_order_id IS NOT NULL
         GROUP BY 1, 2
       ),
       buys AS (
         SELECT ${group}, count(*) AS buys
         FROM fifo_lots l LEFT JOIN trade_records t ON t.order_id = l.buy_order_id
         WHERE l.allocation_version = $1 AND l.buy_time > $2::timestamptz AND l.buy_time <= $3::timestamptz
         GROUP BY 1, 2
       ),
       keys AS (
         SELECT kind, name FROM exits UNION SELECT kind, name FROM entries UNION SELECT kind, name FROM buys
       )
       SELECT k.kind, CASE WHEN k.kind = 'named' THEN k.name END AS name,
              coalesce(b.buys, 0)::text AS buys, coalesce(x.sells, 0)::text AS sells,
              ${dec('x.pnl')} AS realized, ${dec('e.pnl')} AS entry
       FROM keys k
       LEFT JOIN exits x ON x.kind = k.kind AND x.name IS NOT DISTINCT FROM k.name
       LEFT JOIN entries e ON e.kind = k.kind AND e.name IS NOT DISTINCT FROM k.name
       LEFT JOIN buys b ON b.kind = k.kind AND b.name IS NOT DISTINCT FROM k.name`,
      [span.version, span.start, span.end],
    );
    return rows
      .map(
        (r): SourceRow => ({
          kind: r.kind,
          name: r.name,
          buys: Number(r.buys),
          sells: Number(r.sells),
          realizedPnl: r.realized,
          entryPnl: r.entry,
        }),
      )
      .sort(byGroup);
  });
}

// ---------------------------------------------------------------------------------------------
// Risk and capital

export type StartingEquity =
  | { readonly source: 'cash_transactions'; readonly amount: string; readonly cash: CashTotals }
  | { readonly source: 'setting'; readonly amount: string }
  | { readonly source: 'none' };

export interface Drawdown {
  /** peak - trough, USD, >= 0. */
  readonly usd: string;
  readonly peak: string;
  readonly trough: string;
  /** The sell that reached the trough; null without a drawdown. */
  readonly at: string | null;
}

export interface RiskSection {
  readonly startingEquity: StartingEquity;
  /** Why cash_transactions did not give the starting equity (null when it did). */
  readonly cashTransactionsNeeds: string | null;
  /** Largest fall of the all-time realized equity curve from a previous high, in USD. */
  readonly maxDrawdown: Drawdown;
  /** Largest fall relative to its high, as a ratio (0.1 = 10%); null without a known starting equity. */
  readonly maxDrawdownPct: (Drawdown & { readonly ratio: string }) | null;
  /** Equity on the realized curve at the end: starting equity + all-time realized PnL. */
  readonly realizedEquity: string | null;
  /**
   * Starting equity + all-time realized PnL + net proceeds of unmatched sells - cost of the open
   * lots: the USD left once the trades are paid for. Null without a starting equity.
   */
  readonly cash: string | null;
  /** Open positions at market (at cost where unmarked). */
  readonly exposure: string;
  /** cash + exposure. */
  readonly equityNow: string | null;
  /** exposure / equityNow; null without a starting equity or when equity is not positive. */
  readonly investedRatio: string | null;
}

interface DrawdownSqlRow {
  usd: string;
  peak: string;
  trough: string;
  at: string | null;
}

async function readDrawdowns(q: Queryable, span: Span, start: string) {
  const { rows } = await q.query<{ by_usd: DrawdownSqlRow | null; by_pct: DrawdownSqlRow | null }>(
    `WITH s AS (
       SELECT sell_order_id, min(sell_time) AS t, coalesce(sum(pnl_usd), 0) AS pnl
       FROM fifo_allocations WHERE allocation_version = $1 AND sell_time <= $2::timestamptz
       GROUP BY sell_order_id
     ),
     c AS (
       SELECT t, sell_order_id,
              $3::numeric + sum(pnl) OVER (ORDER BY t, sell_order_id COLLATE "C" ROWS UNBOUNDED PRECEDING) AS equity
       FROM s
     ),
     d AS (
       SELECT t, sell_order_id, equity,
              greatest($3::numeric, max(equity) OVER (ORDER BY t, sell_order_id COLLATE "C" ROWS UNBOUNDED PRECEDING)) AS peak
       FROM c
     )
     SELECT (SELECT json_build_object('usd', trim_scale(peak - equity)::text, 'peak', trim_scale(peak)::text,
                                      'trough', trim_scale(equity)::text, 'at', ${utcText('t')})
             FROM d WHERE peak > equity ORDER BY peak - equity DESC, t, sell_order_id COLLATE "C" LIMIT 1) AS by_usd,
            (SELECT json_build_object('usd', trim_scale(peak - equity)::text, 'peak', trim_scale(peak)::text,
                                      'trough', trim_scale(equity)::text, 'at', ${utcText('t')})
             FROM d WHERE peak > equity AND peak > 0
             ORDER BY (peak - equity) / peak DESC, t, sell_order_id COLLATE "C" LIMIT 1) AS by_pct`,
    [span.version, span.end, start],
  );
  return rows[0]!;
}

export async function readRisk(
  q: Queryable,
  span: Span,
  facts: {
    readonly allTimeRealized: string;
    readonly market: MarketSection;
    readonly settings: ReportSettings;
  },
): Promise<RiskSection> {
  const cash = await readCashTransactions(q, span.end);
  const startingEquity: StartingEquity = cash.ok
    ? { source: 'cash_transactions', amount: cash.value.net, cash: cash.value }
    : facts.settings.startingEquity !== null
      ? { source: 'setting', amount: facts.settings.startingEquity }
      : { source: 'none' };
  const known = startingEquity.source !== 'none';
  const start = startingEquity.source === 'none' ? '0' : startingEquity.amount;
  const drawdowns = await readDrawdowns(q, span, start);
  const none: Drawdown = { usd: '0', peak: start, trough: start, at: null };
  const { rows: unmatched } = await q.query<{ net: string }>(
    `SELECT ${dec('sum(net_proceeds_usd)')} AS net FROM fifo_allocations
     WHERE allocation_version = $1 AND buy_order_id IS NULL AND sell_time <= $2::timestamptz`,
    [span.version, span.end],
  );
  const t = facts.market.totals;
  const exposure = new Exact(t.marketValue).plus(t.unmarkedCost).toFixed();
  const realizedEquity = known ? new Exact(start).plus(facts.allTimeRealized).toFixed() : null;
  const cashNow = known
    ? new Exact(start).plus(facts.allTimeRealized).plus(unmatched[0]!.net).minus(t.costBasis).toFixed()
    : null;
  const equityNow = cashNow === null ? null : new Exact(cashNow).plus(exposure).toFixed();
  const pct = drawdowns.by_pct;
  return {
    startingEquity,
    cashTransactionsNeeds: cash.ok ? null : cash.needs,
    maxDrawdown: drawdowns.by_usd ?? none,
    maxDrawdownPct: !known
      ? null
      : pct
        ? { ...pct, ratio: ratio(pct.usd, pct.peak)! }
        : { ...none, ratio: '0' },
    realizedEquity,
    cash: cashNow,
    exposure,
    equityNow,
    investedRatio: equityNow !== null && new Exact(equityNow).gt(0) ? ratio(exposure, equityNow) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Costs

export interface CostsSection {
  readonly buyFees: string;
  readonly sellFees: string;
  readonly fees: string;
  /** Notional of the lots opened in the window (size × price) + gross proceeds of its sells. */
  readonly volume: string;
  /** fees / volume; null without volume. */
  readonly observedRate: string | null;
  readonly makerRate: string;
  readonly takerRate: string;
  /** The price move a round trip needs to cover its fees: maker both ways, taker both ways. */
  readonly breakEvenMaker: string;
  readonly breakEvenTaker: string;
  /** At the window's observed rate both ways; null without volume. */
  readonly breakEvenObserved: string | null;
}

export async function readCosts(
  q: Queryable,
  span: Span,
  fees: { readonly buyFees: string; readonly sellFees: string; readonly fees: string },
  settings: ReportSettings,
): Promise<CostsSection> {
  const { rows } = await q.query<{ buys: string; sells: string }>(
    `SELECT (SELECT ${dec('sum(l.size * l.buy_price)')} FROM fifo_lots l
             WHERE l.allocation_version = $1 AND l.buy_time > $2::timestamptz AND l.buy_time <= $3::timestamptz) AS buys,
            (SELECT ${dec('sum(a.proceeds_usd)')} FROM fifo_allocations a WHERE ${IN_WINDOW}) AS sells`,
    [span.version, span.start, span.end],
  );
  const volume = new Exact(rows[0]!.buys).plus(rows[0]!.sells).toFixed();
  const observedRate = ratio(fees.fees, volume);
  return {
    buyFees: fees.buyFees,
    sellFees: fees.sellFees,
    fees: fees.fees,
    volume,
    observedRate,
    makerRate: settings.makerFeeRate,
    takerRate: settings.takerFeeRate,
    breakEvenMaker: breakEvenMove(settings.makerFeeRate, settings.makerFeeRate),
    breakEvenTaker: breakEvenMove(settings.takerFeeRate, settings.takerFeeRate),
    breakEvenObserved: observedRate === null ? null : breakEvenMove(observedRate, observedRate),
  };
}

// ---------------------------------------------------------------------------------------------
// Holding time and near-instant roundtrips

export interface HoldingStats {
  /** Null: every symbol together. */
  readonly symbol: string | null;
  readonly slices: number;
  /**
   * What the percentiles are weighted by: a symbol's slices by their size (base units), all
   * symbols together by their cost basis in USD (sizes of different coins do not add up).
   */
  readonly weightedBy: 'size' | 'usd';
  /** The total weight: size sold, or cost basis in USD. Exact. */
  readonly weight: string;
  /** The shortest holding time covering at least half (90%) of the weight. */
  readonly medianSeconds: number;
  readonly p90Seconds: number;
}

/** Weighted median and p90 of sell_time - buy_time over the window's matched slices. */
export async function readHolding(q: Queryable, span: Span): Promise<HoldingStats[]> {
  const { rows } = await q.query<{
    symbol: string | null;
    slices: string;
    weight: string;
    median: string;
    p90: string;
  }>(
    `WITH h AS (
       SELECT a.symbol, a.allocated_size, a.cost_basis_usd, extract(epoch FROM a.sell_time - a.buy_time) AS secs
       FROM fifo_allocations a WHERE ${IN_WINDOW} AND a.buy_order_id IS NOT NULL
     ),
     g AS (
       SELECT symbol AS grp, allocated_size AS w, secs FROM h
       UNION ALL
       SELECT NULL, cost_basis_usd, secs FROM h
     ),
     r AS (
       SELECT grp, w, secs,
              sum(w) OVER (PARTITION BY grp ORDER BY secs ROWS UNBOUNDED PRECEDING) AS cum,
              sum(w) OVER (PARTITION BY grp) AS total
       FROM g
     )
     SELECT grp AS symbol, count(*)::text AS slices, ${dec('sum(w)')} AS weight,
            trim_scale(min(secs) FILTER (WHERE cum * 2 >= total))::text AS median,
            trim_scale(min(secs) FILTER (WHERE cum * 10 >= total * 9))::text AS p90
     FROM r GROUP BY grp
     ORDER BY grp NULLS FIRST`,
    [span.version, span.start, span.end],
  );
  return rows.map((r) => ({
    symbol: r.symbol,
    slices: Number(r.slices),
    weightedBy: r.symbol === null ? ('usd' as const) : ('size' as const),
    weight: r.weight,
    // Seconds are durations, not money: a number is exact enough for "3 h 05 min".
    medianSeconds: Number(r.median),
    p90Seconds: Number(r.p90),
  }));
}

export interface RoundtripSlice extends AllocationRow {
  readonly holding_seconds: string;
  /** The slice's buy fee share (cost basis - size × buy price) + its sell fee share. */
  readonly fees_usd: string;
}

export interface RoundtripGroup {
  readonly symbol: string | null;
  readonly slices: number;
  readonly sells: number;
  readonly size: string;
  readonly pnl: string;
  readonly fees: string;
}

export interface RoundtripSection {
  readonly thresholdSeconds: number;
  /** Every slice held no longer than the threshold, in sell order. */
  readonly slices: RoundtripSlice[];
  /** Per symbol (most slices first), then the total (symbol null) last. */
  readonly groups: RoundtripGroup[];
}

export async function readRoundtrips(
  q: Queryable,
  span: Span,
  thresholdSeconds: number,
): Promise<RoundtripSection> {
  const { rows } = await q.query<RoundtripSlice>(
    `SELECT ${ALLOCATION_SELECT},
            trim_scale(extract(epoch FROM a.sell_time - a.buy_time))::text AS holding_seconds,
            ${dec('(a.cost_basis_usd - a.allocated_size * a.buy_price) + (a.proceeds_usd - a.net_proceeds_usd)')} AS fees_usd
     FROM fifo_allocations a
     WHERE ${IN_WINDOW} AND a.buy_order_id IS NOT NULL
       AND a.sell_time - a.buy_time <= make_interval(secs => $4)
     ORDER BY a.sell_time, a.sell_order_id COLLATE "C", a.buy_time, a.buy_order_id COLLATE "C"`,
    [span.version, span.start, span.end, thresholdSeconds],
  );
  const groups = new Map<string | null, RoundtripSlice[]>();
  for (const r of rows) {
    groups.set(r.symbol, [...(groups.get(r.symbol) ?? []), r]);
  }
  const group = (symbol: string | null, slices: RoundtripSlice[]): RoundtripGroup => ({
    symbol,
    slices: slices.length,
    sells: new Set(slices.map((s) => s.sell_order_id)).size,
    size: sum(slices.map((s) => s.allocated_size!)),
    pnl: sum(slices.map((s) => s.pnl_usd ?? '0')),
    fees: sum(slices.map((s) => s.fees_usd)),
  });
  const perSymbol = [...groups.entries()]
    .map(([symbol, slices]) => group(symbol, slices))
    .sort((a, b) => b.slices - a.slices || ((a.symbol ?? '') < (b.symbol ?? '') ? -1 : 1));
  return { thresholdSeconds, slices: rows, groups: [...perSymbol, group(null, rows)] };
}

// ---------------------------------------------------------------------------------------------
// Big movers

export interface Mover {
  readonly sellOrderId: string;
  readonly symbol: string;
  readonly sellTime: string;
  readonly pnl: string;
  /** The command that shows its lots, ready to paste into a shell. */
  readonly command: string;
}

/** A shell word for an order id: as is when it is plain, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9._:@%+=,/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function explainCommand(sellOrderId: string, version: number): string {
  const id = shellWord(sellOrderId);
  // "--" keeps an id that starts with "-" from being read as an option.
  return `npx fifo explain ${version === 1 ? '' : `--version ${version} `}${sellOrderId.startsWith('-') ? '-- ' : ''}${id}`;
}

export const MOVERS = 3;

/** The best and the worst sells of the window (counted sells only: no unmatched remainder). */
export async function readMovers(q: Queryable, span: Span): Promise<{ best: Mover[]; worst: Mover[] }> {
  const { rows } = await q.query<{
    sell_order_id: string;
    symbol: string;
    sell_time: string;
    pnl: string;
    side: string;
  }>(
    `WITH s AS (
       SELECT a.sell_order_id, a.symbol, min(a.sell_time) AS sell_time, sum(a.pnl_usd) AS pnl
       FROM fifo_allocations a WHERE ${IN_WINDOW}
       GROUP BY a.sell_order_id, a.symbol HAVING bool_and(a.buy_order_id IS NOT NULL)
     )
     (SELECT 'best' AS side, sell_order_id, symbol, ${utcText('sell_time')} AS sell_time, trim_scale(pnl)::text AS pnl
      FROM s WHERE pnl > 0 ORDER BY pnl DESC, sell_time, sell_order_id COLLATE "C" LIMIT $4)
     UNION ALL
     (SELECT 'worst', sell_order_id, symbol, ${utcText('sell_time')}, trim_scale(pnl)::text
      FROM s WHERE pnl < 0 ORDER BY pnl, sell_time, sell_order_id COLLATE "C" LIMIT $4)`,
    [span.version, span.start, span.end, MOVERS],
  );
  const mover = (r: (typeof rows)[number]): Mover => ({
    sellOrderId: r.sell_order_id,
    symbol: r.symbol,
    sellTime: r.sell_time,
    pnl: r.pnl,
    command: explainCommand(r.sell_order_id, span.version),
  });
  return {
    best: rows.filter((r) => r.side === 'best').map(mover),
    worst: rows.filter((r) => r.side === 'worst').map(mover),
  };
}
