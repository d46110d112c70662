/** `fifo replay FILE`: FIFO over a JSON or CSV file of trades, in memory, no database. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import {
  ALLOCATION_COLUMNS,
  allocationRow,
  computeFifo,
  type EngineOptions,
  formatQty,
  formatUsd,
  lotRow,
  type OnUnmatched,
  parseTrades,
  type RawTrade,
  realizedPnl,
  TRADE_FIELDS,
  UnmatchedSellError,
  unmatchedSellCount,
} from '../../shared/fifo/index.ts';
import { CliError } from './errors.ts';

export interface ReplayOptions {
  readonly format: 'json' | 'csv';
  readonly onUnmatched: OnUnmatched;
  readonly dust: ReadonlyMap<string, bigint>;
}

/** Reads trades from a .json ({"trades":[...]}) or .csv file (header = the trade fields). */
export async function readTradeFile(
  file: string,
): Promise<{ rows: RawTrade[]; label: (i: number) => string }> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const kind = extname(file).toLowerCase();
  if (kind === '.csv') {
    let rows: Record<string, string>[];
    try {
      rows = parseCsv(content, { columns: true, skip_empty_lines: true, trim: true, bom: true });
    } catch (error) {
      throw new CliError(`${file} is not valid CSV: ${(error as Error).message}`);
    }
    const header = rows.length > 0 ? Object.keys(rows[0]!) : [];
    const missing = TRADE_FIELDS.filter((field) => rows.length > 0 && !header.includes(field));
    if (missing.length > 0) throw new CliError(`${file}: the CSV header lacks ${missing.join(', ')}`);
    // Line numbers as an editor shows them: the header is line 1.
    return { rows, label: (i) => `line ${i + 2}` };
  }
  if (kind === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch (error) {
      throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
    }
    const trades = (parsed as { trades?: unknown } | null)?.trades;
    if (!Array.isArray(trades)) throw new CliError(`${file}: expected an object {"trades": [...]}`);
    const notObject = trades.findIndex((t) => t === null || typeof t !== 'object' || Array.isArray(t));
    if (notObject >= 0) throw new CliError(`${file}: trade ${notObject + 1} is not an object`);
    return { rows: trades as RawTrade[], label: (i) => `trade ${i + 1}` };
  }
  throw new CliError(`${file}: unknown file type "${kind}", expected .json or .csv`);
}

/** Runs the replay and returns the text to print. */
export async function replay(file: string, options: ReplayOptions): Promise<string> {
  const { rows, label } = await readTradeFile(file);
  const { trades, errors } = parseTrades(rows, label);
  if (errors.length > 0) {
    throw new CliError(
      `${errors.length} bad trade${errors.length === 1 ? '' : 's'} in ${file}:\n${errors.join('\n')}`,
    );
  }
  const engineOptions: EngineOptions = { onUnmatched: options.onUnmatched, dust: options.dust };
  let result: ReturnType<typeof computeFifo>;
  try {
    result = computeFifo(trades, engineOptions);
  } catch (error) {
    if (error instanceof UnmatchedSellError) throw new CliError(`unmatched ${error.message}`);
    throw error;
  }
  for (const w of result.writeOffs) {
    process.stderr.write(
      `dust written off: sell ${w.sellOrderId} (${w.symbol}) ${formatQty(w.size)} units, ` +
        `proceeds ${formatUsd(w.proceeds)}, net ${formatUsd(w.netProceeds)}\n`,
    );
  }
  const allocations = result.allocations.map(allocationRow);
  if (options.format === 'csv') {
    return stringifyCsv(allocations, { header: true, columns: [...ALLOCATION_COLUMNS] });
  }
  const output = {
    allocations,
    lots: result.lots.map(lotRow),
    summary: {
      trades: String(trades.length),
      allocations: String(allocations.length),
      unmatched_sells: String(unmatchedSellCount(result.allocations)),
      realized_pnl_usd: formatUsd(realizedPnl(result.allocations)),
    },
  };
  return `${JSON.stringify(output, null, 2)}\n`;
}
