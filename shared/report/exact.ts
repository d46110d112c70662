/**
 * Exact decimal arithmetic for the report's TypeScript side. decimal.js rounds every result to
 * its precision (20 significant digits by default), which a sum of 30-digit sizes or a size ×
 * price would exceed; this clone keeps 200 digits, enough for any sum or product of the stored
 * values (sizes to 30 decimals, USD to 8), so nothing is rounded until a ratio is.
 */
import { Decimal } from 'decimal.js';

export const Exact = Decimal.clone({
  precision: 200,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -1000,
  toExpPos: 1000,
});
export type Exact = InstanceType<typeof Exact>;

/** Decimal places ratios (rates, averages, percentages) are kept to. */
export const RATIO_PLACES = 8;

/** Exact text of a sum of decimal texts. */
export const sum = (values: readonly string[]): string =>
  values.reduce((total, v) => total.plus(v), new Exact(0)).toFixed();

/** Exact text of a - b. */
export const minus = (a: string, b: string): string => new Exact(a).minus(b).toFixed();

/** Exact text of a × b. */
export const times = (a: string, b: string): string => new Exact(a).times(b).toFixed();

/** n / d to RATIO_PLACES, half to even; null when d is 0. */
export const ratio = (n: Decimal.Value, d: Decimal.Value): string | null => {
  const divisor = new Exact(d);
  return divisor.isZero()
    ? null
    : new Exact(n).div(divisor).toDecimalPlaces(RATIO_PLACES, Exact.ROUND_HALF_EVEN).toFixed();
};

/** Compares exact decimal texts: -1, 0 or 1. */
export const compare = (a: string, b: string): number => new Exact(a).comparedTo(b);
