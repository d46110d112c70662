/**
 * FIFO over a whole set of trades in memory: sorts them into processing order and runs one
 * book per symbol. Used by `fifo replay` and as the reference the database jobs must equal.
 */
import { appendAll } from '../util/append.ts';
import { SymbolBook } from './book.ts';
import { compareLots, compareTrades } from './order.ts';
import type { Allocation, DustWriteOff, EngineOptions, Lot, Trade } from './types.ts';

export interface FifoResult {
  /** By symbol, then sell in processing order, then slice (oldest lot first). */
  readonly allocations: Allocation[];
  /** Every buy's lot with its final state, by symbol then buy order. Closed lots have remaining 0. */
  readonly lots: Lot[];
  readonly writeOffs: DustWriteOff[];
}

export function computeFifo(trades: readonly Trade[], options: EngineOptions = {}): FifoResult {
  const ordered = [...trades].sort(compareTrades);
  const allocations: Allocation[] = [];
  const lots: Lot[] = [];
  const writeOffs: DustWriteOff[] = [];
  let book: SymbolBook | null = null;
  const finish = (done: SymbolBook) => {
    const closed = done.takeClosedLots();
    appendAll(lots, [...closed, ...done.openLots()].sort(compareLots));
    appendAll(writeOffs, done.takeWriteOffs());
  };
  for (const trade of ordered) {
    if (book === null || book.symbol !== trade.symbol) {
      if (book) finish(book);
      book = new SymbolBook(trade.symbol, [], options);
    }
    book.apply(trade, allocations);
  }
  if (book) finish(book);
  return { allocations, lots, writeOffs };
}
