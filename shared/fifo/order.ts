/**
 * Processing order (docs/design.md §2 rule 1): per symbol by order_time, buys before sells at
 * one timestamp, then order_id. A sell may therefore consume a buy of the same timestamp,
 * never a later one.
 */
import type { TradeKey } from './types.ts';

/**
 * Compares strings by Unicode code point, which is the byte order of their UTF-8 form and
 * so the order PostgreSQL gives with COLLATE "C". Plain `<` compares UTF-16 code units,
 * which differs once surrogate pairs meet characters in U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) {
        ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
        cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
      }
      return ca < cb ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

/** Orders two trades of one symbol: time, then buy before sell, then order_id. */
export function compareTradeKeys(a: TradeKey, b: TradeKey): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.side !== b.side) return a.side === 'buy' ? -1 : 1;
  return compareCodePoints(a.orderId, b.orderId);
}

/** Orders trades of any symbols: symbol first, then the per-symbol order. */
export function compareTrades(a: TradeKey & { symbol: string }, b: TradeKey & { symbol: string }): number {
  if (a.symbol !== b.symbol) return compareCodePoints(a.symbol, b.symbol);
  return compareTradeKeys(a, b);
}

/** Orders lots of one symbol by the position of their buy: the FIFO queue order. */
export function compareLots(
  a: { buyTime: string; buyOrderId: string },
  b: { buyTime: string; buyOrderId: string },
): number {
  if (a.buyTime !== b.buyTime) return a.buyTime < b.buyTime ? -1 : 1;
  return compareCodePoints(a.buyOrderId, b.buyOrderId);
}
