/**
 * `fifo replay FILE`: FIFO over a JSON or CSV file of trades, no database, streaming.
 *
 * 1. The file is read row by row (csv-parse's stream; replay-json.ts for JSON). Every row is
 *    checked; valid trades go to an external sort into processing order (symbol, then FIFO
 *    order), their order_ids to a second one that finds duplicates. Memory is bounded by the
 *    sorts' run size, not by the file.
 * 2. Only when every row is good does output start: the sorted trades go through one symbol
 *    book at a time, and each allocation is written as it is made. JSON's lots, which follow
 *    the allocations, wait in a temporary file as their symbols finish.
 *
 * The output is byte for byte what the in-memory replay printed (computeFifo + JSON.stringify):
 * test/cli/replay-stream.test.ts holds the two side by side.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import {
  ALLOCATION_COLUMNS,
  type Allocation,
  allocationRow,
  compareCodePoints,
  compareLots,
  compareTrades,
  type EngineOptions,
  formatQty,
  formatUsd,
  type Lot,
  lotRow,
  type OnUnmatched,
  parseTrade,
  type RawTrade,
  SymbolBook,
  TRADE_FIELDS,
  type Trade,
  UnmatchedSellError,
} from '../../shared/fifo/index.ts';
import { CliError } from './errors.ts';
import { usdText } from './options.ts';
import { TradesArrayScanner } from './replay-json.ts';
import { ExternalSorter } from './replay-sort.ts';

export interface ReplayOptions {
  readonly format: 'json' | 'csv' | 'ndjson';
  readonly onUnmatched: OnUnmatched;
  readonly dust: ReadonlyMap<string, bigint>;
}

/**
 * Trades kept in memory before a sorted run goes to disk (FIFO_REPLAY_RUN_TRADES for tests):
 * 25,000 keeps a 1M-trade replay near 200 MB of peak RSS (docs/performance.md).
 */
function runSize(): number {
  const n = Number(process.env.FIFO_REPLAY_RUN_TRADES);
  return Number.isInteger(n) && n > 0 ? n : 25_000;
}

/** One row of the file: its position (1-based: JSON trade number, CSV line) and its fields. */
interface FileRow {
  readonly row: RawTrade;
  readonly position: number;
}

type Kind = 'csv' | 'json';

const rowLabel = (kind: Kind, position: number) =>
  kind === 'csv' ? `line ${position}` : `trade ${position}`;

/** The file's kind, or one line saying why it cannot be read as trades. */
async function checkFile(file: string): Promise<Kind> {
  const kind = extname(file).toLowerCase();
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(
      code === 'ENOENT'
        ? `cannot read ${file}: no such file`
        : `cannot read ${file}: ${code ?? (error as Error).message}`,
    );
  }
  if (info.isDirectory())
    throw new CliError(`cannot read ${file}: it is a directory, not a .json or .csv file`);
  if (kind !== '.csv' && kind !== '.json') {
    throw new CliError(`${file}: unknown file type "${kind}", expected .json or .csv`);
  }
  if (info.size === 0) {
    throw new CliError(
      `${file} is empty: expected ${kind === '.csv' ? 'a CSV header and trades' : '{"trades": [...]}'}`,
    );
  }
  // Readable at all (permissions): one line now rather than a stream error later.
  try {
    await (await open(file, 'r')).close();
  } catch (error) {
    throw new CliError(
      `cannot read ${file}: ${(error as { code?: string }).code ?? (error as Error).message}`,
    );
  }
  return kind === '.csv' ? 'csv' : 'json';
}

/** The rows of a CSV file, each with the line it starts on in the file (blank lines counted). */
async function* csvRows(file: string): AsyncGenerator<FileRow> {
  let header: string[] | null = null;
  const parser = createReadStream(file).pipe(
    parseCsv({
      columns: (names: string[]) => {
        header = names;
        return names;
      },
      skip_empty_lines: true,
      trim: true,
      bom: true,
      info: true,
    }),
  );
  let checked = false;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      if (!checked) {
        checked = true;
        checkHeader(file, header ?? []);
      }
      // A quoted value may span lines: the record starts that many lines before it ends.
      let inner = 0;
      for (const value of Object.values(record)) {
        for (let i = value.indexOf('\n'); i >= 0; i = value.indexOf('\n', i + 1)) inner++;
      }
      yield { row: record, position: info.lines - inner };
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${file} is not valid CSV: ${(error as Error).message}`);
  }
  if (header === null) throw new CliError(`${file} is empty: expected a CSV header and trades`);
  if (!checked) checkHeader(file, header);
}

function checkHeader(file: string, header: readonly string[]): void {
  const missing = TRADE_FIELDS.filter((field) => !header.includes(field));
  if (missing.length > 0) throw new CliError(`${file}: the CSV header lacks ${missing.join(', ')}`);
}

/** The elements of a JSON file's "trades" array, read as a stream (replay-json.ts). */
async function* jsonRows(file: string): AsyncGenerator<FileRow> {
  const scanner = new TradesArrayScanner();
  let position = 0;
  let notObject = 0;
  try {
    for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 })) {
      for (const value of scanner.feed(chunk as string)) {
        position++;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          notObject ||= position;
          continue;
        }
        if (notObject === 0) yield { row: value as RawTrade, position };
      }
    }
    scanner.end();
  } catch (error) {
    if (error instanceof SyntaxError) throw new CliError(`${file} is not valid JSON: ${error.message}`);
    if (error instanceof Error && error.name === 'JsonShapeError')
      throw new CliError(`${file}: ${error.message}`);
    throw error;
  }
  if (notObject > 0) throw new CliError(`${file}: trade ${notObject} is not an object`);
}

/** A trade in a sorted run: the engine's fields, BigInts as their digits. */
const tradeCodec = {
  encode: (t: Trade) => [t.symbol, t.time, t.side, t.orderId, `${t.price}`, `${t.size}`, `${t.fee}`],
  decode: (v: unknown): Trade => {
    const [symbol, time, side, orderId, price, size, fee] = v as string[];
    return {
      symbol: symbol!,
      time: time!,
      side: side as Trade['side'],
      orderId: orderId!,
      price: BigInt(price!),
      size: BigInt(size!),
      fee: BigInt(fee!),
    };
  },
  compare: compareTrades,
};

/** An order_id and the row it is on: duplicates sort side by side, the first seen first. */
type IdAt = readonly [orderId: string, position: number];
const idCodec = {
  encode: (x: IdAt) => x,
  decode: (v: unknown) => v as IdAt,
  compare: (a: IdAt, b: IdAt) => compareCodePoints(a[0], b[0]) || a[1] - b[1],
};

interface BadRow {
  readonly orderId: string | null;
  readonly problems: string[];
}

/** Where the output goes, honouring backpressure; chunks are gathered to about 64 KB. */
class Output {
  private chunk = '';
  constructor(private readonly stream: Writable) {}
  async write(text: string): Promise<void> {
    this.chunk += text;
    if (this.chunk.length >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.chunk === '') return;
    const text = this.chunk;
    this.chunk = '';
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
}

const indent = (text: string, by: string) => text.replaceAll('\n', `\n${by}`);

/**
 * A CSV cell as csv-stringify writes it with its defaults (the header still comes from it): null
 * empty, quoted when it holds a quote, a comma or a line break, quotes doubled.
 * test/cli/replay-stream.test.ts checks the two agree.
 */
export const csvCell = (value: string | null): string =>
  value === null ? '' : /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;

/** One CSV record of an allocation, in ALLOCATION_COLUMNS order. */
export const csvRecord = (row: Record<string, string | null>): string =>
  `${ALLOCATION_COLUMNS.map((c) => csvCell(row[c] ?? null)).join(',')}\n`;

/** The dust line on stderr: the amount in the asset's units, as --dust takes it. */
function dustLine(
  w: { sellOrderId: string; symbol: string; size: bigint; proceeds: bigint; netProceeds: bigint },
  threshold: bigint,
): string {
  const asset = w.symbol.includes('-') ? w.symbol.slice(0, w.symbol.indexOf('-')) : `units of ${w.symbol}`;
  return (
    `dust written off: sell ${w.sellOrderId} (${w.symbol}) ${formatQty(w.size)} ${asset}, under the ` +
    `--dust threshold of ${formatQty(threshold)} ${asset}: proceeds ${usdText(formatUsd(w.proceeds))} USD, ` +
    `net ${usdText(formatUsd(w.netProceeds))} USD not in any allocation\n`
  );
}

/** Runs the replay, writing the result to `out` (stdout). */
export async function replay(
  file: string,
  options: ReplayOptions,
  out: Writable = process.stdout,
): Promise<void> {
  const kind = await checkFile(file);
  let dir: string | null = null;
  const tempDir = async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'fifo-replay-'));
    return dir;
  };
  try {
    await run(file, kind, options, out, tempDir);
  } finally {
    if (dir !== null) await rm(dir, { recursive: true, force: true });
  }
}

async function run(
  file: string,
  kind: Kind,
  options: ReplayOptions,
  out: Writable,
  tempDir: () => Promise<string>,
): Promise<void> {
  // 1. Read and check every row.
  const size = runSize();
  const trades = new ExternalSorter(tradeCodec, size, tempDir, 'trades');
  const ids = new ExternalSorter<IdAt>(idCodec, size * 2, tempDir, 'ids');
  const bad = new Map<number, BadRow>();
  let rows = 0;
  for await (const { row, position } of kind === 'csv' ? csvRows(file) : jsonRows(file)) {
    rows++;
    const checked = parseTrade(row);
    const orderId = typeof row.order_id === 'string' && row.order_id.trim() !== '' ? row.order_id : null;
    if (orderId !== null) await ids.add([orderId, position]);
    if (checked.problems) bad.set(position, { orderId, problems: checked.problems });
    else if (bad.size === 0) await trades.add(checked.trade);
  }
  if (rows === 0) {
    throw new CliError(
      kind === 'csv' ? `${file} has a header but no trades` : `${file} holds no trades: "trades" is empty`,
    );
  }
  let previous: IdAt | null = null;
  for await (const id of ids.sorted()) {
    if (previous !== null && previous[0] === id[0]) {
      const entry = bad.get(id[1]) ?? { orderId: id[0], problems: [] };
      entry.problems.push(`duplicate order_id, first seen at ${rowLabel(kind, previous[1])}`);
      bad.set(id[1], entry);
      continue;
    }
    previous = id;
  }
  if (bad.size > 0) {
    const lines = [...bad.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(
        ([position, b]) =>
          `${rowLabel(kind, position)}${b.orderId ? ` (order_id ${b.orderId})` : ''}: ${b.problems.join('; ')}`,
      );
    throw new CliError(
      `${lines.length} bad trade${lines.length === 1 ? '' : 's'} in ${file}:\n${lines.join('\n')}`,
    );
  }

  // 2. FIFO, one symbol at a time. With --on-unmatched error the result waits in a file until
  // the last sell is known to be covered: an error prints no partial result.
  const hold = options.onUnmatched === 'error';
  const resultPath = hold ? join(await tempDir(), 'result') : null;
  const resultFile = resultPath ? createWriteStream(resultPath) : null;
  const output = new Output(resultFile ?? out);
  const held: string[] = [];
  const engineOptions: EngineOptions = { onUnmatched: options.onUnmatched, dust: options.dust };

  const json = options.format === 'json';
  const lotsPath = json ? join(await tempDir(), 'lots') : null;
  const lotsFile = lotsPath ? createWriteStream(lotsPath) : null;
  const lotsOut = lotsFile ? new Output(lotsFile) : null;
  let lotCount = 0;
  let lastLot: Lot | null = null;
  const writeLot = async (lot: Lot) => {
    if (lastLot !== null && lastLot.symbol === lot.symbol && compareLots(lastLot, lot) >= 0) {
      throw new Error(`lot ${lot.buyOrderId} out of order after ${lastLot.buyOrderId}`);
    }
    lastLot = lot;
    await lotsOut!.write(
      `${lotCount++ === 0 ? '\n    ' : ',\n    '}${indent(JSON.stringify(lotRow(lot), null, 2), '    ')}`,
    );
  };

  let tradeCount = 0;
  let allocationCount = 0;
  let unmatched = 0;
  let pnl = 0n;
  const emit = async (a: Allocation) => {
    if (a.pnl !== null) pnl += a.pnl;
    if (a.buyOrderId === null) unmatched++;
    const row = allocationRow(a);
    if (options.format === 'csv') {
      await output.write(csvRecord(row));
    } else if (options.format === 'ndjson') {
      await output.write(`${JSON.stringify(row)}\n`);
    } else {
      await output.write(
        `${allocationCount === 0 ? '\n    ' : ',\n    '}${indent(JSON.stringify(row, null, 2), '    ')}`,
      );
    }
    allocationCount++;
  };

  if (options.format === 'csv') {
    await output.write(stringifyCsv([], { header: true, columns: [...ALLOCATION_COLUMNS] }));
  } else if (json) {
    await output.write('{\n  "allocations": [');
  }
  let book: SymbolBook | null = null;
  const sliced: Allocation[] = [];
  const finish = async (done: SymbolBook) => {
    if (lotsOut) {
      for (const lot of done.takeClosedLots()) await writeLot(lot);
      for (const lot of done.openLots()) await writeLot(lot);
    }
    for (const w of done.takeWriteOffs()) {
      const line = dustLine(w, options.dust.get(w.symbol) ?? 0n);
      if (hold) held.push(line);
      else process.stderr.write(line);
    }
  };
  try {
    for await (const trade of trades.sorted()) {
      tradeCount++;
      if (book === null || book.symbol !== trade.symbol) {
        if (book) await finish(book);
        book = new SymbolBook(trade.symbol, [], engineOptions);
      }
      book.apply(trade, sliced);
      for (const a of sliced) await emit(a);
      sliced.length = 0;
      if (lotsOut && trade.side === 'sell') for (const lot of book.takeClosedLots()) await writeLot(lot);
    }
    if (book) await finish(book);
  } catch (error) {
    if (error instanceof UnmatchedSellError) throw new CliError(`unmatched ${error.message}`);
    throw error;
  }

  if (json) {
    await output.write(`${allocationCount === 0 ? '' : '\n  '}],\n  "lots": [`);
    await output.flush();
    if (lotsOut && lotsFile && lotsPath) {
      await lotsOut.flush();
      lotsFile.end();
      await once(lotsFile, 'finish');
      await copyFile(lotsPath, resultFile ?? out);
    }
    const summary = {
      trades: String(tradeCount),
      allocations: String(allocationCount),
      unmatched_sells: String(unmatched),
      realized_pnl_usd: formatUsd(pnl),
    };
    await output.write(
      `${lotCount === 0 ? '' : '\n  '}],\n  "summary": ${indent(JSON.stringify(summary, null, 2), '  ')}\n}\n`,
    );
  }
  await output.flush();
  if (resultFile && resultPath) {
    resultFile.end();
    await once(resultFile, 'finish');
    for (const line of held) process.stderr.write(line);
    await copyFile(resultPath, out);
  }
}

/** Appends a file's bytes to a stream, honouring backpressure; the stream stays open. */
async function copyFile(path: string, to: Writable | WriteStream): Promise<void> {
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 })) {
    if (!to.write(chunk)) await once(to, 'drain');
  }
}
