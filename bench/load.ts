/** Loading a generated history into trade_records through the bot's path (INSERT), with progress. */
import type pg from 'pg';
import { generateTrades, type SampleTrade } from '../shared/sample/generator.ts';
import { insertTrades } from '../shared/sample/load.ts';

export interface LoadOptions {
  readonly trades: number;
  readonly symbols: number;
  readonly seed: number;
  /** First trade time (ISO). @default so that the history ends two days before now */
  readonly start?: string;
  /** Share of trades recorded late: held back and inserted after the rest. @default 0.005 */
  readonly lateShare?: number;
  readonly onProgress?: (done: number) => void;
}

/** Streams the generator into the table in batches; memory stays at one batch. Returns the last trade. */
export async function loadHistory(pool: pg.Pool, options: LoadOptions): Promise<SampleTrade | null> {
  const late: SampleTrade[] = [];
  let batch: SampleTrade[] = [];
  let done = 0;
  let last: SampleTrade | null = null;
  let i = 0;
  const every = Math.max(1, Math.round(1 / (options.lateShare ?? 0.005)));
  // A history in the past: trades dated after tomorrow would be rejected as future times.
  const start = options.start ?? new Date(Date.now() - (options.trades + 3 * 1440) * 60_000).toISOString();
  const trades = generateTrades({
    trades: options.trades,
    symbols: options.symbols,
    seed: options.seed,
    start,
  });
  for (const trade of trades) {
    last = trade;
    if (++i % every === 0) late.push(trade);
    else batch.push(trade);
    if (batch.length === 10_000) {
      await insertTrades(pool, batch);
      done += batch.length;
      batch = [];
      options.onProgress?.(done);
    }
  }
  await insertTrades(pool, [...batch, ...late]);
  options.onProgress?.(options.trades);
  return last;
}
