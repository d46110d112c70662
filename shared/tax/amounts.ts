/**
 * Exact amounts for the tax lots: scaled BigInts, never JavaScript numbers. USD amounts are
 * read at AMOUNT_SCALE places, more than the 8 that fifo-ledger stores, so a version written by
 * another program with more places is summed exactly too rather than refused.
 */
import { formatScaled, parseScaled, QTY_SCALE } from '../fifo/index.ts';

/** Decimal places of every USD amount while it is summed. */
export const AMOUNT_SCALE = QTY_SCALE;

/** Exact decimal text (a numeric column read as text) to a scaled amount. */
export const parseAmount = (text: string): bigint => parseScaled(text, AMOUNT_SCALE);

/** Canonical decimal text: no exponent, no trailing zeros, "0" for zero. */
export const formatAmount = (value: bigint): string => formatScaled(value, AMOUNT_SCALE);

export const parseQuantity = (text: string): bigint => parseScaled(text, QTY_SCALE);

/**
 * A quantity with at least `places` decimals and every exact digit beyond them: 0.5 as
 * "0.50000000", 0.123456789 as "0.123456789". Never rounded.
 */
export function formatQuantity(value: bigint, places = 8): string {
  const text = formatScaled(value, QTY_SCALE);
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(places, '0')}`;
}

/** Exact text with thousands separators in the whole part, for tables: "-1,234.5678". */
export function groupedAmount(value: bigint): string {
  const text = formatAmount(value);
  const negative = text.startsWith('-');
  const [whole, fraction] = (negative ? text.slice(1) : text).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** The absolute value. */
export const abs = (value: bigint): bigint => (value < 0n ? -value : value);

/** One cent at AMOUNT_SCALE. */
export const ONE_CENT = 10n ** BigInt(AMOUNT_SCALE - 2);
