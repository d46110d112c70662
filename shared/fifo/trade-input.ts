/**
 * Validation at the edge: raw trade fields (text) into engine trades. Every problem is
 * reported, one message per bad row, naming the row and its order_id; nothing partial is
 * returned when any row is bad.
 */
import { NumberFormatError, parseScaled } from './decimal.ts';
import { canonicalTime, TimeFormatError } from './time.ts';
import type { Side, Trade } from './types.ts';

export const TRADE_FIELDS = ['order_id', 'symbol', 'side', 'order_time', 'price', 'size', 'fee'] as const;

export type RawTrade = Record<string, unknown>;

/**
 * The longest order_id and symbol a trade may have, in UTF-8 bytes. A sell's allocation key
 * holds two order ids (sell and lot) and the version, and a btree entry must fit in a third
 * of a page (2,704 bytes): two ids of 1.5 KB once stopped every run. With these limits the
 * widest key, (sell, buy, version), stays under 1.1 KB. Longer ones are rejected as bad rows.
 */
export const MAX_ORDER_ID_BYTES = 512;
export const MAX_SYMBOL_BYTES = 128;

/** Why an identifier cannot be used as a key, or null when it can. */
export function identifierProblem(field: 'order_id' | 'symbol', value: string): string | null {
  if (value.includes('\u0000')) return `${field} contains a NUL character`;
  const limit = field === 'order_id' ? MAX_ORDER_ID_BYTES : MAX_SYMBOL_BYTES;
  // Three UTF-8 bytes per UTF-16 unit at most: short strings need no count.
  if (value.length * 3 <= limit) return null;
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes <= limit
    ? null
    : `${field} is ${bytes.toLocaleString('en-US')} bytes long; the limit is ${limit}`;
}

export interface ParsedTrades {
  readonly trades: Trade[];
  /** One message per bad row; empty when every row is valid. */
  readonly errors: string[];
}

/** Normalises a side the way the database's trade source does: trimmed, lower case. */
export function normaliseSide(side: string): Side | null {
  const normalised = side.trim().toLowerCase();
  return normalised === 'buy' || normalised === 'sell' ? normalised : null;
}

/** A row checked on its own: the trade, or every problem found with it. */
export type CheckedTrade = { trade: Trade; problems?: undefined } | { trade?: undefined; problems: string[] };

/**
 * Checks one raw row. `timeIsCanonical` skips time parsing for rows whose order_time the
 * database already formatted canonically (see time.ts).
 */
export function parseTrade(row: RawTrade, timeIsCanonical = false): CheckedTrade {
  const plain = timeIsCanonical ? plainTrade(row) : null;
  if (plain !== null) return { trade: plain };
  const problems: string[] = [];
  const text = (field: string): string | null => {
    // A trade without a fee paid none (docs/design.md §2: fee NULL = 0).
    if (field === 'fee' && (!(field in row) || row[field] === undefined)) return '';
    if (!(field in row) || row[field] === undefined) {
      problems.push(`missing field ${field}`);
      return null;
    }
    const value = row[field];
    if (typeof value === 'number') {
      problems.push(
        field === 'price' || field === 'size' || field === 'fee'
          ? `${field} must be a decimal string, not the JSON number ${value} (precision may be lost)`
          : `${field} must be text, not the JSON number ${value}: write it in quotes, "${value}"`,
      );
      return null;
    }
    if (value !== null && typeof value !== 'string') {
      problems.push(`${field} must be a string`);
      return null;
    }
    return value ?? '';
  };
  const required = (field: string): string | null => {
    const value = text(field);
    if (value !== null && value.trim() === '') {
      problems.push(`${field} is empty`);
      return null;
    }
    return value;
  };
  const amount = (field: string, allowZero: boolean): bigint | null => {
    const value = field === 'fee' ? text(field) : required(field);
    if (value === null) return null;
    if (field === 'fee' && value.trim() === '') return 0n;
    try {
      const parsed = parseScaled(value);
      if (parsed < 0n || (!allowZero && parsed === 0n)) {
        problems.push(`${field} must be ${allowZero ? 'zero or more' : 'greater than zero'}, got "${value}"`);
        return null;
      }
      return parsed;
    } catch (error) {
      if (!(error instanceof NumberFormatError)) throw error;
      problems.push(`${field} ${error.message}`);
      return null;
    }
  };

  const orderId = required('order_id');
  const symbol = required('symbol');
  for (const [field, value] of [
    ['order_id', orderId],
    ['symbol', symbol],
  ] as const) {
    const problem = value === null ? null : identifierProblem(field, value);
    if (problem) problems.push(problem);
  }
  const sideText = required('side');
  const side = sideText === null ? null : normaliseSide(sideText);
  if (sideText !== null && side === null) problems.push(`side must be buy or sell, got "${sideText}"`);
  const timeText = required('order_time');
  let time: string | null = null;
  if (timeText !== null) {
    try {
      time = timeIsCanonical ? timeText : canonicalTime(timeText);
    } catch (error) {
      if (!(error instanceof TimeFormatError)) throw error;
      problems.push(`order_time ${error.message}`);
    }
  }
  const price = amount('price', false);
  const size = amount('size', false);
  const fee = amount('fee', true);
  if (problems.length > 0) return { problems };
  return {
    trade: {
      orderId: orderId!,
      symbol: symbol!,
      side: side!,
      time: time!,
      price: price!,
      size: size!,
      fee: fee!,
    },
  };
}

/** Plain decimals within the engine's scale: the form float8::text gives for ordinary values. */
const PLAIN = /^\d+(?:\.\d{1,30})?$/;
const NONZERO = /[1-9]/;
const plainPositive = (v: unknown): v is string => typeof v === 'string' && PLAIN.test(v) && NONZERO.test(v);

/**
 * The common case of a database row, checked without the general path: a known side, plain
 * positive decimals, usable identifiers and an order_time the database already formatted. It
 * accepts exactly what the general checks accept for such rows, so a new rule added below
 * applies to every row that is not this simple (and must be added here too if it concerns one).
 */
function plainTrade(row: RawTrade): Trade | null {
  const { order_id: orderId, symbol, side, order_time: time, price, size, fee } = row;
  if (
    (side === 'buy' || side === 'sell') &&
    typeof orderId === 'string' &&
    typeof symbol === 'string' &&
    typeof time === 'string' &&
    time !== '' &&
    plainPositive(price) &&
    plainPositive(size) &&
    (fee === null || fee === undefined || (typeof fee === 'string' && PLAIN.test(fee))) &&
    orderId.trim() !== '' &&
    symbol.trim() !== '' &&
    identifierProblem('order_id', orderId) === null &&
    identifierProblem('symbol', symbol) === null
  ) {
    return {
      orderId,
      symbol,
      side,
      time,
      price: parseScaled(price),
      size: parseScaled(size),
      fee: fee === null || fee === undefined ? 0n : parseScaled(fee),
    };
  }
  return null;
}

/**
 * Checks a whole input: every row, and that no order_id repeats.
 * @param rowLabel names a row in messages, e.g. `trade 3` or `line 4`
 */
export function parseTrades(rows: readonly RawTrade[], rowLabel: (index: number) => string): ParsedTrades {
  const trades: Trade[] = [];
  const errors: string[] = [];
  const firstSeen = new Map<string, string>();
  rows.forEach((row, index) => {
    const checked = parseTrade(row);
    const problems = checked.problems ?? [];
    const orderId = typeof row.order_id === 'string' && row.order_id.trim() !== '' ? row.order_id : null;
    if (orderId !== null) {
      const earlier = firstSeen.get(orderId);
      if (earlier) problems.push(`duplicate order_id, first seen at ${earlier}`);
      else firstSeen.set(orderId, rowLabel(index));
    }
    if (problems.length > 0) {
      errors.push(`${rowLabel(index)}${orderId ? ` (order_id ${orderId})` : ''}: ${problems.join('; ')}`);
      return;
    }
    trades.push(checked.trade!);
  });
  return errors.length > 0 ? { trades: [], errors } : { trades, errors };
}
