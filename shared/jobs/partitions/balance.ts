/**
 * Splits symbols into K partitions balanced by trade count: the largest symbols first, each
 * to the partition with the fewest trades so far (longest processing time first). Symbols
 * are independent, so any split gives the same rows; this one evens out the wall time.
 */
import { compareCodePoints } from '../../fifo/index.ts';

export interface SymbolWeight {
  readonly symbol: string;
  readonly trades: number;
}

export interface Partition {
  readonly index: number;
  readonly symbols: string[];
  trades: number;
}

export function balancePartitions(weights: readonly SymbolWeight[], k: number): Partition[] {
  const partitions: Partition[] = Array.from({ length: k }, (_, index) => ({
    index,
    symbols: [],
    trades: 0,
  }));
  const ordered = [...weights].sort((a, b) => b.trades - a.trades || compareCodePoints(a.symbol, b.symbol));
  for (const w of ordered) {
    let least = partitions[0]!;
    for (const p of partitions) if (p.trades < least.trades) least = p;
    least.symbols.push(w.symbol);
    least.trades += w.trades;
  }
  for (const p of partitions) p.symbols.sort(compareCodePoints);
  return partitions;
}
