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
 * - Expectancy = (gross profit + gross loss) / (wins + losses + breakeven): the mean PnL of a
 *   counted sell; undefined without counted sells.
 * - Fees = fees of the buys whose lots opened in the window + sell fees of the window's sells
 *   (proceeds - net proceeds).
 * - Window: sells with start < sell_time <= end, so back-to-back reports count each sell once.
 *
 * Sums are exact (numeric in SQL, decimal text here); ratios are computed with decimal.js
 * (./exact.ts) and kept to 8 decimal places.
 */
import { Exact, ratio as exactRatio, RATIO_PLACES } from './exact.ts';

export { RATIO_PLACES };

/** What SQL counts for a set of results: a window's sells, one symbol's, one strategy's. */
export interface ResultAggregates {
  /** Results: distinct sells (or, for an entry strategy, distinct sell and strategy pairs). */
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
}

/** The aggregates SQL returns for a set of sells (a window, or one symbol in it). */
export interface SellAggregates extends ResultAggregates {
  readonly sellFees: string;
  readonly buyFees: string;
}

export interface Results extends ResultAggregates {
  /** wins / (wins + losses); null when there is neither. */
  readonly winRate: number | null;
  /** Exact to 8 dp; null without wins / losses. */
  readonly averageWin: string | null;
  readonly averageLoss: string | null;
  /** gross profit / |gross loss| to 8 dp; null without losses (see profitFactorNote). */
  readonly profitFactor: string | null;
  /** Why the profit factor is null: 'no losses' (there are wins) or 'no results'. */
  readonly profitFactorNote: string | null;
  /** (gross profit + gross loss) / (wins + losses + breakeven) to 8 dp; null without results. */
  readonly expectancy: string | null;
}

export interface Performance extends SellAggregates, Results {
  /** buyFees + sellFees, exact. */
  readonly fees: string;
}

export function deriveResults<T extends ResultAggregates>(a: T): T & Results {
  const decided = a.wins + a.losses;
  const counted = decided + a.breakeven;
  const grossLoss = new Exact(a.grossLoss);
  return {
    ...a,
    winRate: decided === 0 ? null : a.wins / decided,
    averageWin: a.wins === 0 ? null : exactRatio(a.grossProfit, a.wins),
    averageLoss: a.losses === 0 ? null : exactRatio(a.grossLoss, a.losses),
    profitFactor: grossLoss.isZero() ? null : exactRatio(a.grossProfit, grossLoss.abs()),
    profitFactorNote: !grossLoss.isZero() ? null : a.wins > 0 ? 'no losses' : 'no results',
    expectancy: counted === 0 ? null : exactRatio(new Exact(a.grossProfit).plus(a.grossLoss), counted),
  };
}

export function derivePerformance(a: SellAggregates): Performance {
  return { ...deriveResults(a), fees: new Exact(a.buyFees).plus(a.sellFees).toFixed() };
}

/**
 * The price move a round trip needs to break even when the buy pays `buyRate` and the sell
 * `sellRate` of the notional: (1 + buyRate) / (1 - sellRate) - 1, to 8 dp.
 */
export function breakEvenMove(buyRate: string, sellRate: string): string {
  // (1 + b) / (1 - s) - 1 = (b + s) / (1 - s); sellRate < 0.5 (config), so 1 - s > 0.
  return exactRatio(new Exact(buyRate).plus(sellRate), new Exact(1).minus(sellRate)) ?? '0';
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
      'win/loss, profit factor or expectancy; it is listed under Unmatched sells. Realized PnL includes only its ' +
      'matched part.',
    'Profit factor = gross profit / gross loss of the counted sells. Expectancy = their PnL / their number ' +
      '(wins, losses and breakeven). Fees = buy fees of lots opened in the window + sell fees of the sells in the ' +
      'window.',
    `The window holds sells with start < sell time <= end. Days are calendar days in ${timeZone}. ` +
      'Sums are exact; amounts are shown rounded to 2 decimals.',
  ];
}
