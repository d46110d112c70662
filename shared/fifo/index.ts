/** The pure FIFO engine: no I/O. Its rules: docs/design.md §2. */
export { SymbolBook, TradeOrderError, UnmatchedSellError } from './book.ts';
export { computeFifo, type FifoResult } from './compute.ts';
export * from './decimal.ts';
export { lotCost, openLot } from './gains.ts';
export { compareCodePoints, compareLots, compareTradeKeys, compareTrades } from './order.ts';
export * from './output.ts';
export { canonicalTime, TimeFormatError } from './time.ts';
export {
  type CheckedTrade,
  identifierProblem,
  MAX_ORDER_ID_BYTES,
  MAX_SYMBOL_BYTES,
  normaliseSide,
  parseTrade,
  parseTrades,
  type RawTrade,
  TRADE_FIELDS,
} from './trade-input.ts';
export type * from './types.ts';
