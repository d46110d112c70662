/** Wording both renderers share: section titles, explanations, the subject line. */
import { duration, ratioPercent, signedMoney } from '../util/format.ts';
import type { ReportModel } from './model.ts';
import type { GroupKind, StartingEquity } from './sections.ts';
import type { Verdict } from './verdict.ts';

export const SECTION = {
  metrics: 'Key metrics',
  change: 'Change from the previous window',
  dailyChart: 'Daily realized PnL',
  equityChart: 'Equity curve',
  attribution: 'PnL by strategy',
  sources: 'PnL by source',
  bySymbol: 'Per symbol',
  market: 'Open positions at market',
  risk: 'Risk and capital',
  costs: 'Costs and break-even',
  holding: 'Holding time',
  roundtrips: 'Near-instant roundtrips',
  movers: 'Big movers',
  unmatched: 'Unmatched sells',
  health: 'FIFO health',
  legacy: 'Legacy reconciliation',
} as const;

/** The banner's first line. */
export function verdictHeadline(model: ReportModel): string {
  const verdict: Verdict = model.health.verdict;
  const n = model.health.reasons.length;
  switch (verdict) {
    case 'OK':
      return 'OK: the figures are fresh and consistent';
    case 'WARNING':
      return `WARNING: the figures are up to date, but ${n === 1 ? 'one thing needs' : `${n} things need`} a look`;
    case 'STALE':
      return 'STALE: the figures may be out of date';
    case 'FAILED':
      return 'FAILED: the last run failed, see below';
  }
}

/** How a group of the attribution and source tables is named. */
export function groupLabel(kind: GroupKind, name: string | null, what: 'trigger' | 'source'): string {
  switch (kind) {
    case 'named':
      return name ?? '';
    case 'none':
      return `(no ${what})`;
    case 'not found':
      return '(trade no longer in trade_records)';
    case 'unmatched':
      return '(unmatched: no buy lot)';
  }
}

/** Where the starting equity comes from, in a sentence. */
export function equitySourceText(equity: StartingEquity): string {
  switch (equity.source) {
    case 'cash_transactions':
      return (
        `from cash_transactions: deposits ${signedMoney(equity.cash.deposits)} - withdrawals ` +
        `${signedMoney(equity.cash.withdrawals).replace(/^\+/, '')} USD (${plural(equity.cash.rows, 'row')}` +
        `${equity.cash.otherRows ? `; ${plural(equity.cash.otherRows, 'row')} of other types left out` : ''})`
      );
    case 'setting':
      return 'from the REPORT_STARTING_EQUITY setting (cash_transactions could not give it)';
    case 'none':
      return 'unknown: set REPORT_STARTING_EQUITY (or --starting-equity), or record deposits in cash_transactions';
  }
}

export const ATTRIBUTION_NOTE =
  'Entry: by the trigger of the buy whose lot each slice took, so a sell that took lots of two strategies ' +
  'splits its PnL between them exactly, slice by slice (one result per sell and strategy). Exit: by the ' +
  "sell's own trigger. The rows of each table add up to the window's realized PnL.";

export const SOURCES_NOTE =
  "Buys: lots opened in the window. Sells and their PnL: by the sell's source. Entry PnL: the slices whose " +
  "buy had that source (the bot's own attribution). Each PnL column adds up to the window's realized PnL.";

export const MARKET_NOTE =
  'Unrealized = size x mark - cost basis (fees included). A mark is the latest price at or before the ' +
  "report's end: from the price table when one is configured and has the symbol, else the symbol's last fill.";

export const RISK_NOTE =
  'The realized equity curve is the starting equity plus the all-time realized PnL, sell by sell; drawdown is ' +
  'its largest fall from a previous high. Cash = starting equity + realized PnL + net proceeds of unmatched ' +
  'sells - cost of the open lots. Invested = open positions at market / (cash + open positions at market).';

export const HOLDING_NOTE =
  'Holding time of each lot slice sold in the window (sell time - buy time), weighted by its size (all ' +
  'symbols together: by its cost basis in USD, since sizes of different coins do not add up). The median is ' +
  'the shortest time that covers half the weight, p90 the one that covers 90%.';

export const ROUNDTRIP_NOTE =
  'Lot slices bought and sold within the threshold, from the FIFO slices themselves (not a pairing guess). ' +
  'Fees = the buy fee share in the cost basis + the sell fee share.';

export const MOVERS_NOTE = 'Run the command beside a sell to see the lots it took.';

/** The summary under the banner, one sentence each: PnL, change, market, strategies. */
export function summaryLines(model: ReportModel): string[] {
  const m = model.metrics;
  const w = model.window;
  const lines = [
    `Realized PnL ${signedMoney(m.realizedPnl)} USD in ${w.hours} h over ${plural(m.sells, 'sell')} ` +
      `(previous ${w.hours} h: ${signedMoney(model.previous.metrics.realizedPnl)}); all time ` +
      `${signedMoney(model.allTime.realizedPnl)} USD.`,
  ];
  const t = model.market.totals;
  if (model.market.positions.length > 0)
    lines.push(
      `Open positions ${signedMoney(t.marketValue).replace(/^\+/, '')} USD at market, unrealized ` +
        `${signedMoney(t.unrealizedPnl)} USD` +
        (model.risk.investedRatio !== null
          ? `, ${ratioPercent(model.risk.investedRatio, 1)} invested.`
          : '.'),
    );
  const { best, worst } = model.strategies;
  if (best) {
    const name = (r: typeof best) => groupLabel(r.kind, r.name, 'trigger');
    lines.push(
      worst
        ? `Top strategy: ${name(best)} ${signedMoney(best.realizedPnl)} USD; worst: ${name(worst)} ${signedMoney(worst.realizedPnl)} USD.`
        : `Only strategy: ${name(best)} ${signedMoney(best.realizedPnl)} USD.`,
    );
  }
  return lines;
}

/** "12 s" for the threshold of the roundtrip section. */
export const roundtripThreshold = (seconds: number) => duration(seconds);

export const UNMATCHED_WHY =
  'Why it matters: these sells found no open buy lot, so they have no cost basis and realized PnL leaves them ' +
  'out; the sold coins were never bought as far as trade_records knows. Usually a buy is missing (not recorded ' +
  'yet, or lost) or the coins came in by deposit or transfer. Once the buy is recorded the next run corrects ' +
  'the PnL.';

export const POSITIONS_NOTE =
  'From the open lots as they are now: size and cost still open, average cost = cost basis / size (fees included).';

export const LEGACY_NOTE =
  'The bot computed PnL inline when it recorded a sell; those deprecated columns can be wrong (stale lots). ' +
  'Difference = FIFO - legacy.';

/** Rows shown in the long tables; the CSV has every allocation. */
export const TABLE_LIMIT = 20;

/** ASCII only (SES subjects are 7-bit unless encoded): "[fifo-ledger] WARNING 2024-03-10: ..." */
export function subjectLine(model: ReportModel, prefix: string): string {
  const m = model.metrics;
  const body =
    `${model.health.verdict} ${model.window.date}: realized PnL ${signedMoney(m.realizedPnl)} USD ` +
    `in ${model.window.hours} h, ${m.sells} sell${m.sells === 1 ? '' : 's'}`;
  return prefix ? `${prefix} ${body}` : body;
}

export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
