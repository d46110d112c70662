/**
 * Loading a generated history into trade_records with COPY, with progress. The rows are those
 * the bot's INSERTs write (shared/sample/load.ts: status 'filled', trigger {"trigger": name},
 * source, ingest_via 'sample'), and the change-capture triggers fire as they would; COPY only
 * takes the round trips out, so 5M trades load in a minute or two rather than many.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { generateTrades, type SampleTrade } from '../shared/sample/generator.ts';
import { SAMPLE_MARKER } from '../shared/sample/load.ts';

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

const COLUMNS =
  'order_id, symbol, side, order_time, price, size, total_fees_usd, status, "trigger", source, ingest_via';

/** A value in COPY's text format: \N for null; backslash, tab, newline and return escaped. */
const field = (value: string | null | undefined): string =>
  value === null || value === undefined
    ? '\\N'
    : value.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      );

/** One line of COPY text, with the values shared/sample/load.ts's INSERT writes. */
function line(t: SampleTrade): string {
  const trigger =
    t.trigger === null || t.trigger === undefined ? '{}' : JSON.stringify({ trigger: t.trigger });
  return `${[
    field(t.order_id),
    field(t.symbol),
    field(t.side),
    field(t.order_time),
    field(t.price),
    field(t.size),
    field(t.fee),
    'filled',
    field(trigger),
    field(t.source),
    SAMPLE_MARKER,
  ].join('\t')}\n`;
}

/**
 * Streams the generator into the table with one COPY; memory stays at one chunk and the late
 * trades (0.5% by default), which follow the rest at the end as the bot would record them.
 * Returns the last trade generated.
 */
export async function loadHistory(pool: pg.Pool, options: LoadOptions): Promise<SampleTrade | null> {
  let last: SampleTrade | null = null;
  const every = Math.max(1, Math.round(1 / (options.lateShare ?? 0.005)));
  // A history in the past: trades dated after tomorrow would be rejected as future times.
  const start = options.start ?? new Date(Date.now() - (options.trades + 3 * 1440) * 60_000).toISOString();
  const trades = generateTrades({
    trades: options.trades,
    symbols: options.symbols,
    seed: options.seed,
    start,
  });
  async function* lines() {
    const late: SampleTrade[] = [];
    let chunk = '';
    let i = 0;
    for (const trade of trades) {
      last = trade;
      if (++i % every === 0) late.push(trade);
      else chunk += line(trade);
      if (chunk.length >= 1 << 18) {
        yield chunk;
        chunk = '';
      }
      if (i % 10_000 === 0) options.onProgress?.(i);
    }
    for (const trade of late) chunk += line(trade);
    if (chunk) yield chunk;
  }
  const client = await pool.connect();
  try {
    await pipeline(lines, client.query(copyFrom(`COPY trade_records (${COLUMNS}) FROM STDIN`)));
  } finally {
    client.release();
  }
  options.onProgress?.(options.trades);
  return last;
}
