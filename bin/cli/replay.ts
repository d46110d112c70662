/**
 * `fifo replay FILE`: FIFO over a JSON or CSV file of trades, no database, streaming.
 *
 * 1. The file is read row by row (a plain CSV file without csv-parse, any other through its
 *    stream; replay-json.ts for JSON). Every row is checked; valid trades go to an external
 *    sort into processing order (symbol, then FIFO order), their order_ids to a Bloom filter
 *    whose few hits are checked exactly in a second reading. Memory is bounded by the sort's
 *    run size and the filter's fixed size, not by the file.
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
  FREE_TEXT_COLUMNS,
  formatQty,
  formatUsd,
  type Lot,
  lotSummary,
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
import { ExternalSorter, type SortCodec } from './replay-sort.ts';

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

/** Rows of the file, as read: each with its position (1-based: JSON trade number, CSV line). */
interface RowBatch {
  readonly rows: RawTrade[];
  readonly positions: number[];
}

type Kind = 'csv' | 'json';

const rowLabel = (kind: Kind, position: number) =>
  kind === 'csv' ? `line ${position}` : `trade ${position}`;

/** The file's kind, or one line saying why it cannot be read as trades. */
async function checkFile(file: string): Promise<{ kind: Kind; bytes: number }> {
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
  return { kind: kind === '.csv' ? 'csv' : 'json', bytes: info.size };
}

/** Records of a CSV file handed out at a time through csv-parse. */
const CSV_BATCH = 1024;

/**
 * The rows of a CSV file through csv-parse, each with the line it starts on in the file (blank
 * lines counted): any CSV, quoted values spanning lines included.
 */
async function* csvBatches(file: string): AsyncGenerator<RowBatch> {
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
  let batch: RowBatch = { rows: [], positions: [] };
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
      batch.rows.push(record);
      batch.positions.push(info.lines - inner);
      if (batch.rows.length >= CSV_BATCH) {
        yield batch;
        batch = { rows: [], positions: [] };
      }
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${file} is not valid CSV: ${(error as Error).message}`);
  }
  if (batch.rows.length > 0) yield batch;
  if (header === null) throw new CliError(`${file} is empty: expected a CSV header and trades`);
  if (!checked) checkHeader(file, header);
}

/** A CSV file that plainCsvBatches leaves to csv-parse. */
class NotPlainCsv extends Error {
  override name = 'NotPlainCsv';
}

/** A value csv-parse would give back as it is: no space or other character it trims at either end. */
const plainValue = (value: string): boolean => {
  if (value === '') return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f;
};

/**
 * The rows of a plain CSV file (no quote, no carriage return, no value with spaces around it,
 * every record as wide as the header, header names unique), read without csv-parse: the rows,
 * positions and errors are those csv-parse gives with csvBatches' options, at a fraction of
 * the cost (docs/performance.md, `fifo replay`). On anything else it throws NotPlainCsv before
 * the file's end, and the caller reads the file again through csvBatches.
 */
async function* plainCsvBatches(file: string): AsyncGenerator<RowBatch> {
  let header: string[] | null = null;
  let line = 0;
  let rest = '';
  let first = true;
  let checked = false;
  const recordOf = (text: string, batch: RowBatch) => {
    line++;
    if (text === '') return;
    const values = text.split(',');
    for (const value of values) if (!plainValue(value)) throw new NotPlainCsv();
    if (header === null) {
      if (new Set(values).size !== values.length || values.includes('')) throw new NotPlainCsv();
      header = values;
      return;
    }
    if (values.length !== header.length) throw new NotPlainCsv();
    if (!checked) {
      checked = true;
      checkHeader(file, header);
    }
    const record: Record<string, string> = {};
    for (let i = 0; i < values.length; i++) record[header[i]!] = values[i]!;
    batch.rows.push(record);
    batch.positions.push(line);
  };
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 18 })) {
    let text = chunk as string;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.includes('"') || text.includes('\r') || text.includes('\uFFFD')) throw new NotPlainCsv();
    text = rest + text;
    const batch: RowBatch = { rows: [], positions: [] };
    let from = 0;
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', from)) {
      recordOf(text.slice(from, at), batch);
      from = at + 1;
    }
    rest = text.slice(from);
    if (batch.rows.length > 0) yield batch;
  }
  const batch: RowBatch = { rows: [], positions: [] };
  if (rest !== '') recordOf(rest, batch);
  if (batch.rows.length > 0) yield batch;
  if (header === null) throw new CliError(`${file} is empty: expected a CSV header and trades`);
  if (!checked) checkHeader(file, header);
}

function checkHeader(file: string, header: readonly string[]): void {
  const missing = TRADE_FIELDS.filter((field) => !header.includes(field));
  if (missing.length > 0) throw new CliError(`${file}: the CSV header lacks ${missing.join(', ')}`);
}

/** The elements of a JSON file's "trades" array, read as a stream (replay-json.ts). */
async function* jsonBatches(file: string): AsyncGenerator<RowBatch> {
  const scanner = new TradesArrayScanner();
  let position = 0;
  let notObject = 0;
  try {
    for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 })) {
      const batch: RowBatch = { rows: [], positions: [] };
      for (const value of scanner.feed(chunk as string)) {
        position++;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          notObject ||= position;
          continue;
        }
        if (notObject === 0) {
          batch.rows.push(value as RawTrade);
          batch.positions.push(position);
        }
      }
      if (batch.rows.length > 0) yield batch;
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

/** A value that cannot stand in a run file's plain (tab-separated) line. */
const notPlain = (value: string) => value.includes('\t') || value.includes('\n');

/**
 * A trade in a sorted run: the engine's fields, BigInts as their digits. Tab-separated when
 * the symbol and order_id hold no tab or line break and the symbol does not start with "[",
 * else a JSON array, which always does.
 */
const tradeCodec: SortCodec<Trade> = {
  encode: (t) =>
    notPlain(t.symbol) || notPlain(t.orderId) || t.symbol.startsWith('[')
      ? JSON.stringify([t.symbol, t.time, t.side, t.orderId, `${t.price}`, `${t.size}`, `${t.fee}`])
      : `${t.symbol}\t${t.time}\t${t.side}\t${t.orderId}\t${t.price}\t${t.size}\t${t.fee}`,
  decode: (line) => {
    const [symbol, time, side, orderId, price, size, fee] = (
      line.charCodeAt(0) === 0x5b ? JSON.parse(line) : line.split('\t')
    ) as string[];
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
/** "POSITION<tab>ORDER_ID", or a JSON array when the order_id holds a line break. */
const idCodec: SortCodec<IdAt> = {
  encode: (x) => (x[0].includes('\n') ? JSON.stringify(x) : `${x[1]}\t${x[0]}`),
  decode: (line) => {
    if (line.charCodeAt(0) === 0x5b) return JSON.parse(line) as IdAt;
    const tab = line.indexOf('\t');
    return [line.slice(tab + 1), Number(line.slice(0, tab))];
  },
  compare: (a, b) => compareCodePoints(a[0], b[0]) || a[1] - b[1],
};

interface BadRow {
  readonly orderId: string | null;
  readonly problems: string[];
}

/** Where the output goes: text gathered to about 64 KB, then written honouring backpressure. */
class Output {
  private chunk = '';
  constructor(private readonly stream: Writable) {}
  write(text: string): void {
    this.chunk += text;
  }
  /** Enough gathered to be written. */
  get full(): boolean {
    return this.chunk.length >= 1 << 16;
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

/** Only free-text columns can need quoting: the others skip csvCell's search. */
const QUOTABLE = ALLOCATION_COLUMNS.map((c) => FREE_TEXT_COLUMNS.has(c));

/** One CSV record of an allocation, in ALLOCATION_COLUMNS order. */
export const csvRecord = (row: Record<string, string | null>): string => {
  let line = '';
  for (let i = 0; i < ALLOCATION_COLUMNS.length; i++) {
    const value = row[ALLOCATION_COLUMNS[i]!] ?? null;
    if (i > 0) line += ',';
    line += QUOTABLE[i] ? csvCell(value) : (value ?? '');
  }
  return `${line}\n`;
};

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
  const { kind, bytes } = await checkFile(file);
  let dir: string | null = null;
  const tempDir = async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'fifo-replay-'));
    return dir;
  };
  try {
    await run(file, kind, bytes, options, out, tempDir);
  } finally {
    if (dir !== null) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The order ids read so far, as a Bloom filter: `add` says whether an id may have been added
 * before. It never misses a repeat, and names an id that is not one rarely: with a bit per byte
 * of the file (at least 30 per id, up to 64 MB) and 8 probes, about once in 10^5 ids at worst,
 * once in 10^9 for the benchmark's file. Only the ids it names are checked exactly, in a second
 * reading (findDuplicates), so a file without a repeated id is read once and no id is sorted.
 */
export class IdFilter {
  private readonly words: Int32Array;
  private readonly mask: number;

  constructor(fileBytes: number) {
    let bits = 1 << 16;
    while (bits < fileBytes && bits < 1 << 29) bits *= 2;
    this.words = new Int32Array(bits >>> 5);
    this.mask = bits - 1;
  }

  add(id: string): boolean {
    // Two 32-bit hashes (FNV-1a and a multiplicative one), mixed; probes at a + k * b.
    let a = 0x811c9dc5;
    let b = id.length;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = mix(a);
    b = mix(b) | 1;
    let seen = true;
    for (let k = 0; k < 8; k++) {
      const bit = (a + Math.imul(k, b)) & this.mask;
      const word = bit >>> 5;
      const flag = 1 << (bit & 31);
      if ((this.words[word]! & flag) === 0) {
        seen = false;
        this.words[word]! |= flag;
      }
    }
    return seen;
  }
}

/** The finaliser of MurmurHash3: every input bit moves every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Order ids the filter named, checked exactly in memory up to this many (FIFO_REPLAY_SUSPECTS
 * for tests), else every id through an external sort.
 */
function suspectsMax(): number {
  const n = Number(process.env.FIFO_REPLAY_SUSPECTS);
  return Number.isInteger(n) && n > 0 ? n : 100_000;
}

const orderIdOf = (row: RawTrade): string | null =>
  typeof row.order_id === 'string' && row.order_id.trim() !== '' ? row.order_id : null;

interface RowsRead {
  readonly trades: ExternalSorter<Trade>;
  readonly bad: Map<number, BadRow>;
  readonly rows: number;
  /** Order ids that may repeat; null when more than suspectsMax() did. */
  readonly suspects: Set<string> | null;
}

/** Checks every row; valid trades go to their sort (named after `name`), order ids to the filter. */
async function readRows(
  batches: AsyncIterable<RowBatch>,
  fileBytes: number,
  tempDir: () => Promise<string>,
  name: string,
): Promise<RowsRead> {
  const trades = new ExternalSorter(tradeCodec, runSize(), tempDir, `${name}-trades`);
  const filter = new IdFilter(fileBytes);
  let suspects: Set<string> | null = new Set<string>();
  const most = suspectsMax();
  const bad = new Map<number, BadRow>();
  let rows = 0;
  for await (const batch of batches) {
    for (let i = 0; i < batch.rows.length; i++) {
      const row = batch.rows[i]!;
      const position = batch.positions[i]!;
      rows++;
      const checked = parseTrade(row);
      const orderId = orderIdOf(row);
      if (orderId !== null && filter.add(orderId) && suspects !== null) {
        suspects.add(orderId);
        if (suspects.size > most) suspects = null;
      }
      if (checked.problems) bad.set(position, { orderId, problems: checked.problems });
      else if (bad.size === 0) {
        const spilling = trades.add(checked.trade);
        if (spilling) await spilling;
      }
    }
  }
  return { trades, bad, rows, suspects };
}

/**
 * Reads the file again and adds "duplicate order_id" to every row whose order_id an earlier row
 * has: among the suspects, in memory; among every id through an external sort when there are
 * too many suspects.
 */
async function findDuplicates(
  batches: AsyncIterable<RowBatch>,
  kind: Kind,
  suspects: Set<string> | null,
  bad: Map<number, BadRow>,
  tempDir: () => Promise<string>,
): Promise<void> {
  const duplicate = (orderId: string, position: number, first: number) => {
    const entry = bad.get(position) ?? { orderId, problems: [] };
    entry.problems.push(`duplicate order_id, first seen at ${rowLabel(kind, first)}`);
    bad.set(position, entry);
  };
  if (suspects !== null) {
    const firstAt = new Map<string, number>();
    for await (const batch of batches) {
      for (let i = 0; i < batch.rows.length; i++) {
        const orderId = orderIdOf(batch.rows[i]!);
        if (orderId === null || !suspects.has(orderId)) continue;
        const first = firstAt.get(orderId);
        if (first === undefined) firstAt.set(orderId, batch.positions[i]!);
        else duplicate(orderId, batch.positions[i]!, first);
      }
    }
    return;
  }
  const ids = new ExternalSorter<IdAt>(idCodec, runSize() * 2, tempDir, 'ids');
  for await (const batch of batches) {
    for (let i = 0; i < batch.rows.length; i++) {
      const orderId = orderIdOf(batch.rows[i]!);
      if (orderId === null) continue;
      const spilling = ids.add([orderId, batch.positions[i]!]);
      if (spilling) await spilling;
    }
  }
  let previous: IdAt | null = null;
  for await (const id of ids.sorted()) {
    if (previous !== null && previous[0] === id[0]) duplicate(id[0], id[1], previous[1]);
    else previous = id;
  }
}

async function run(
  file: string,
  kind: Kind,
  bytes: number,
  options: ReplayOptions,
  out: Writable,
  tempDir: () => Promise<string>,
): Promise<void> {
  // 1. Read and check every row. A CSV file is read without csv-parse while it is plain, and
  // again through csv-parse from its start when it is not.
  const sources = {
    json: () => jsonBatches(file),
    plain: () => plainCsvBatches(file),
    csv: () => csvBatches(file),
  };
  let how: keyof typeof sources = kind === 'json' ? 'json' : 'plain';
  let read: RowsRead;
  try {
    read = await readRows(sources[how](), bytes, tempDir, how);
  } catch (error) {
    if (!(error instanceof NotPlainCsv)) throw error;
    how = 'csv';
    read = await readRows(sources[how](), bytes, tempDir, how);
  }
  const { trades, bad } = read;
  if (read.rows === 0) {
    throw new CliError(
      kind === 'csv' ? `${file} has a header but no trades` : `${file} holds no trades: "trades" is empty`,
    );
  }
  if (read.suspects === null || read.suspects.size > 0) {
    await findDuplicates(sources[how](), kind, read.suspects, bad, tempDir);
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
  const writeLot = (lot: Lot) => {
    if (lastLot !== null && lastLot.symbol === lot.symbol && compareLots(lastLot, lot) >= 0) {
      throw new Error(`lot ${lot.buyOrderId} out of order after ${lastLot.buyOrderId}`);
    }
    lastLot = lot;
    lotsOut!.write(
      `${lotCount++ === 0 ? '\n    ' : ',\n    '}${indent(JSON.stringify(lotSummary(lot), null, 2), '    ')}`,
    );
  };

  let tradeCount = 0;
  let allocationCount = 0;
  let unmatched = 0;
  let pnl = 0n;
  const emit = (a: Allocation) => {
    if (a.pnl !== null) pnl += a.pnl;
    if (a.buyOrderId === null) unmatched++;
    const row = allocationRow(a);
    if (options.format === 'csv') {
      output.write(csvRecord(row));
    } else if (options.format === 'ndjson') {
      output.write(`${JSON.stringify(row)}\n`);
    } else {
      output.write(
        `${allocationCount === 0 ? '\n    ' : ',\n    '}${indent(JSON.stringify(row, null, 2), '    ')}`,
      );
    }
    allocationCount++;
  };

  if (options.format === 'csv') {
    output.write(stringifyCsv([], { header: true, columns: [...ALLOCATION_COLUMNS] }));
  } else if (json) {
    output.write('{\n  "allocations": [');
  }
  let book: SymbolBook | null = null;
  const sliced: Allocation[] = [];
  const finish = (done: SymbolBook) => {
    if (lotsOut) {
      for (const lot of done.takeClosedLots()) writeLot(lot);
      for (const lot of done.openLots()) writeLot(lot);
    }
    for (const w of done.takeWriteOffs()) {
      const line = dustLine(w, options.dust.get(w.symbol) ?? 0n);
      if (hold) held.push(line);
      else process.stderr.write(line);
    }
  };
  try {
    for await (const batch of trades.batches()) {
      for (const trade of batch) {
        tradeCount++;
        if (book === null || book.symbol !== trade.symbol) {
          if (book) finish(book);
          book = new SymbolBook(trade.symbol, [], engineOptions);
        }
        book.apply(trade, sliced);
        for (const a of sliced) emit(a);
        sliced.length = 0;
        if (lotsOut && trade.side === 'sell') for (const lot of book.takeClosedLots()) writeLot(lot);
        if (output.full) await output.flush();
        if (lotsOut?.full) await lotsOut.flush();
      }
    }
    if (book) finish(book);
  } catch (error) {
    if (error instanceof UnmatchedSellError) throw new CliError(`unmatched ${error.message}`);
    throw error;
  }

  if (json) {
    output.write(`${allocationCount === 0 ? '' : '\n  '}],\n  "lots": [`);
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
    output.write(
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
