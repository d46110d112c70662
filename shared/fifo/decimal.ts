/**
 * Exact fixed-point numbers for the FIFO hot loop.
 *
 * Sizes, prices and fees are scaled BigInts with QTY_SCALE decimal places, USD amounts are
 * scaled BigInts with USD_SCALE (8) places. decimal.js is used only at the edges, to parse
 * and validate text; inside the loop everything is BigInt, which is exact and several
 * times faster than decimal.js objects.
 */
import { Decimal } from 'decimal.js';

/** Decimal places kept for sizes, prices and fees as read. More is rejected, never rounded. */
export const QTY_SCALE = 30;
/** Decimal places of every stored USD amount (docs/design.md §2 rule 5). */
export const USD_SCALE = 8;
/** Decimal places of the informational per-unit fee columns. */
export const PER_UNIT_SCALE = 18;

export const QTY_ONE = 10n ** BigInt(QTY_SCALE);
/** Divisor that takes a product of two quantities (scale 2*QTY_SCALE) to USD_SCALE. */
export const PRODUCT_TO_USD = 10n ** BigInt(2 * QTY_SCALE - USD_SCALE);
export const PER_UNIT_ONE = 10n ** BigInt(PER_UNIT_SCALE);

/** n / d rounded half to even; d must be positive. */
export function divHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n - q * d;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) return n < 0n ? q - 1n : q + 1n;
  return q;
}

const DECIMAL_SYNTAX = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export class NumberFormatError extends Error {
  override name = 'NumberFormatError';
}

/**
 * Parses decimal text ("12.5", "1e-18", "0.000423") into a BigInt scaled by 10^scale.
 * Throws NumberFormatError for anything that is not a finite decimal (NaN, Infinity, hex,
 * empty) or that has more decimal places than the scale can hold exactly.
 */
export function parseScaled(text: string, scale: number = QTY_SCALE): bigint {
  return parsePlain(text, scale) ?? parseGeneral(text, scale);
}

const POWERS_OF_TEN = Array.from({ length: 64 }, (_, i) => 10n ** BigInt(i));
/** Digits that a double holds exactly: 10^15 < 2^53. */
const EXACT_DOUBLE_DIGITS = 15;

/**
 * The plain form ("123.45": digits, at most one inner point, no more places than the scale),
 * which is every number the trade source hands out and takes most of a rebuild's parsing.
 * Null for anything else. Short digit strings go through a double, where they are exact.
 */
export function parsePlain(text: string, scale: number): bigint | null {
  const length = text.length;
  let point = -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && point < 0) point = i;
    else if (c < 48 || c > 57) return null;
  }
  if (length === 0 || point === 0 || point === length - 1) return null;
  const places = point < 0 ? 0 : length - point - 1;
  if (places > scale || scale - places >= POWERS_OF_TEN.length) return null;
  const digits = point < 0 ? text : text.slice(0, point) + text.slice(point + 1);
  const unscaled = digits.length <= EXACT_DOUBLE_DIGITS ? BigInt(Number(digits)) : BigInt(digits);
  return unscaled * POWERS_OF_TEN[scale - places]!;
}

/** Every other spelling decimal.js accepts: signs, exponents, surrounding spaces. */
function parseGeneral(text: string, scale: number): bigint {
  const trimmed = text.trim();
  if (!DECIMAL_SYNTAX.test(trimmed)) throw new NumberFormatError(`"${text}" is not a decimal number`);
  const value = new Decimal(trimmed);
  if (!value.isFinite()) throw new NumberFormatError(`"${text}" is not a finite number`);
  if (value.decimalPlaces() > scale) {
    throw new NumberFormatError(`"${text}" has more than ${scale} decimal places`);
  }
  // toFixed with no more places than the value has is exact (no rounding to `precision`).
  return BigInt(value.toFixed(scale).replace('.', ''));
}

/** Canonical text of a scaled BigInt: no exponent, no trailing zeros, "0" for zero. */
export function formatScaled(value: bigint, scale: number): string {
  if (scale === 0) return value.toString();
  const negative = value < 0n;
  let digits = (negative ? -value : value).toString();
  if (digits.length <= scale) digits = '0'.repeat(scale + 1 - digits.length) + digits;
  const cut = digits.length - scale;
  let end = digits.length;
  while (end > cut && digits.charCodeAt(end - 1) === 48) end--;
  const body = end === cut ? digits.slice(0, cut) : `${digits.slice(0, cut)}.${digits.slice(cut, end)}`;
  return negative ? `-${body}` : body;
}

export const formatQty = (value: bigint): string => formatScaled(value, QTY_SCALE);
export const formatUsd = (value: bigint): string => formatScaled(value, USD_SCALE);
export const formatPerUnit = (value: bigint): string => formatScaled(value, PER_UNIT_SCALE);
