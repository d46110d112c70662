/**
 * The report's metric definitions. The email states them (METRIC_RULES), so a reader knows
 * what a number means without reading this file:
 *
 * - One result per sell: a sell's PnL is the sum of the PnL of the lot slices it matched.
 * - Win: PnL > 0. Loss: PnL < 0. Breakeven: PnL exactly 0 at the stored 8-decimal precision;
 *   neither a win nor a loss, and left out of the win-rate denominator:
 *   win rate = wins / (wins + losses).
 * - A sell with an unmatched remainder (part or all of its size found no open lot, so it has
 *   no cost basis) is not a result: it is left out of win rate, average win/loss and profit
 *   factor and listed under unmatched sells. Realized PnL includes the PnL of its matched
 *   part only (the unmatched part has none).
 * - Average win = gross profit / wins; average loss = gross loss / losses (negative).
 * - Profit factor = gross profit / |gross loss|; undefined without losses.
 * - Fees = fees of the buys whose lots opened in the window + sell fees of the window's sells
 *   (proceeds - net proceeds).
 * - Window: sells with start < sell_time <= end, so back-to-back reports count each sell once.
 *
 * Sums are exact (numeric in SQL, decimal text here); ratios are computed with decimal.js and
 * kept to 8 decimal places.
 */
import { Decimal } from 'decimal.js';

/** The aggregates SQL returns for a set of sells (a window, or one symbol in it). */
export interface SellAggregates {
  /** Distinct sells. */
  readonly sells: number;
  readonly wins: number;
  readonly losses: number;
  readonly breakeven: number;
  /** Sells with an unmatched remainder (not counted as results). */
  readonly unmatched: number;
  /** Σ pnl_usd of every allocation: matched slices of all sells. Exact text. */
  readonly realizedPnl: string;
  /** Σ PnL of the winning sells. */
  readonly grossProfit: string;
  /** Σ PnL of the losing sells (negative or 0). */
  readonly grossLoss: string;
  /** Σ PnL of the matched part of sells with an unmatched remainder. */
  readonly unmatchedSellsPnl: string;
  readonly sellFees: string;
  readonly buyFees: string;
}

export interface Performance extends SellAggregates {
  /** buyFees + sellFees, exact. */
  readonly fees: string;
  /** wins / (wins + losses); null when there is neither. */
  readonly winRate: number | null;
  /** Exact to 8 dp; null without wins / losses. */
  readonly averageWin: string | null;
  readonly averageLoss: string | null;
  /** gross profit / |gross loss| to 8 dp; null without losses (see profitFactorNote). */
  readonly profitFactor: string | null;
  /** Why the profit factor is null: 'no losses' (there are wins) or 'no results'. */
  readonly profitFactorNote: string | null;
}

export const RATIO_PLACES = 8;

const ratio = (n: string, d: Decimal.Value): string =>
  new Decimal(n).div(d).toDecimalPlaces(RATIO_PLACES, Decimal.ROUND_HALF_EVEN).toFixed();

export function derivePerformance(a: SellAggregates): Performance {
  const decided = a.wins + a.losses;
  const grossLoss = new Decimal(a.grossLoss);
  return {
    ...a,
    fees: new Decimal(a.buyFees).plus(a.sellFees).toFixed(),
    winRate: decided === 0 ? null : a.wins / decided,
    averageWin: a.wins === 0 ? null : ratio(a.grossProfit, a.wins),
    averageLoss: a.losses === 0 ? null : ratio(a.grossLoss, a.losses),
    profitFactor: grossLoss.isZero() ? null : ratio(a.grossProfit, grossLoss.abs()),
    profitFactorNote: !grossLoss.isZero() ? null : a.wins > 0 ? 'no losses' : 'no results',
  };
}

export const emptyAggregates = (): SellAggregates => ({
  sells: 0,
  wins: 0,
  losses: 0,
  breakeven: 0,
  unmatched: 0,
  realizedPnl: '0',
  grossProfit: '0',
  grossLoss: '0',
  unmatchedSellsPnl: '0',
  sellFees: '0',
  buyFees: '0',
});

/** The rules as the email states them, one sentence each. */
export function metricRules(timeZone: string): string[] {
  return [
    "One result per sell: a sell's PnL is the sum of the PnL of the lot slices it matched (FIFO).",
    'Win rate = wins / (wins + losses). A sell with PnL exactly 0.00000000 is breakeven: neither a win nor a ' +
      'loss, and not in the denominator.',
    'A sell with an unmatched remainder (no open lot, so no cost basis) is not counted in win rate, average ' +
      'win/loss or profit factor; it is listed under Unmatched sells. Realized PnL includes only its matched part.',
    'Profit factor = gross profit / gross loss of the counted sells. Fees = buy fees of lots opened in the window ' +
      '+ sell fees of the sells in the window.',
    `The window holds sells with start < sell time <= end. Days are calendar days in ${timeZone}. ` +
      'Sums are exact; amounts are shown rounded to 2 decimals.',
  ];
}
