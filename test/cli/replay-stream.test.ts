/**
 * `fifo replay` streams: its output is byte for byte what the in-memory
 * replay printed, whether the input fits one sorted run or spills many to disk, for JSON, CSV and
 * NDJSON output; the JSON reader and the CSV writer agree with JSON.parse and csv-stringify.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, replay } from '../../bin/cli/replay.ts';
import { TradesArrayScanner } from '../../bin/cli/replay-json.ts';
import {
  ALLOCATION_COLUMNS,
  allocationRow,
  computeFifo,
  formatUsd,
  lotRow,
  parseTrades,
  type RawTrade,
  realizedPnl,
  TRADE_FIELDS,
  unmatchedSellCount,
} from '../../shared/fifo/index.ts';
import { generateTrades, type SampleTrade } from '../../shared/sample/generator.ts';

/** The replay as it was before it streamed: everything in memory, one JSON.stringify. */
function reference(rows: SampleTrade[], format: 'json' | 'csv' | 'ndjson', dust = new Map<string, bigint>()) {
  const { trades, errors } = parseTrades(rows as unknown as RawTrade[], (i) => `trade ${i + 1}`);
  if (errors.length > 0) throw new Error(errors.join('\n'));
  const result = computeFifo(trades, { dust });
  const allocations = result.allocations.map(allocationRow);
  if (format === 'csv') return stringifyCsv(allocations, { header: true, columns: [...ALLOCATION_COLUMNS] });
  if (format === 'ndjson') return allocations.map((a) => `${JSON.stringify(a)}\n`).join('');
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

/** Runs the streaming replay in this process and returns what it printed. */
async function streamed(file: string, format: 'json' | 'csv' | 'ndjson', dust = new Map<string, bigint>()) {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  await replay(file, { format, onUnmatched: 'row', dust }, sink);
  return chunks.join('');
}

let dir: string;
const history = [...generateTrades({ trades: 3000, symbols: 5, seed: 7 })];
// The file order is not the processing order: the sort must put it right.
const shuffled = [...history].reverse();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fifo-replay-stream-'));
  await writeFile(
    join(dir, 'history.json'),
    JSON.stringify({ note: 'x', trades: shuffled, more: [1, { a: '[' }] }),
  );
  const csv = [TRADE_FIELDS.join(','), ...shuffled.map((t) => TRADE_FIELDS.map((f) => t[f]).join(','))].join(
    '\n',
  );
  await writeFile(join(dir, 'history.csv'), `${csv}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.FIFO_REPLAY_RUN_TRADES;
});

describe('the streaming replay against the in-memory one', () => {
  it.each([
    ['json', 'json', undefined],
    ['json', 'json', '250'],
    ['csv', 'csv', '250'],
    ['csv', 'ndjson', '97'],
    ['json', 'csv', undefined],
  ] as const)('%s in, %s out, run size %s: byte-identical', async (input, format, run) => {
    // Why: streaming must change memory, never the figures or a byte of the output scripts read.
    // Prepare
    if (run) process.env.FIFO_REPLAY_RUN_TRADES = run;
    const expected = reference(history, format);

    // Act
    const actual = await streamed(join(dir, `history.${input}`), format);

    // Assess
    expect(actual).toBe(expected);
  });

  it('writes off dust per symbol exactly as the engine does, spilled or not', async () => {
    // Why: dust thresholds apply per symbol book; streaming one book at a time must not change them.
    // Prepare
    process.env.FIFO_REPLAY_RUN_TRADES = '300';
    const dust = new Map([['SYM1-USD', 10n ** 29n]]);
    const expected = reference(history, 'json', dust);

    // Act
    const actual = await streamed(join(dir, 'history.csv'), 'json', dust);

    // Assess
    expect(actual).toBe(expected);
  });
});

describe('the pieces', () => {
  it('reads the trades array in chunks of any size as JSON.parse does', () => {
    // Why: a chunk may end inside a string, an escape, a key or a number.
    // Prepare
    const text = `\uFEFF{"a": {"trades": [1]}, "tr\\"x": "}", "trades" : [ {"order_id": "o\\"1]", "n": [1, {"b": "}"}]}, {"order_id":"o2"} ], "z": null}`;
    const expected = [{ order_id: 'o"1]', n: [1, { b: '}' }] }, { order_id: 'o2' }];

    for (const size of [1, 2, 3, 7, 1000]) {
      // Act
      const scanner = new TradesArrayScanner();
      const got: unknown[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...scanner.feed(text.slice(i, i + size)));
      scanner.end();

      // Assess
      expect(got, `chunks of ${size}`).toEqual(expected);
    }
  });

  it.each([
    ['{"trades": [{"a": "1"},]}', SyntaxError],
    ['{"trades": [{"a": "1"} {"b": "2"}]}', SyntaxError],
    ['{"trades": [{"a": "1"}', SyntaxError],
    ['{"trades": [], "x": }', SyntaxError],
    ['[{"trades": []}]', Error],
    ['{"trades": {}}', Error],
    ['{"trades": [], "trades": []}', Error],
  ])('refuses %s', (text, kind) => {
    // Why: the file as a whole must be valid JSON of the documented shape, as with JSON.parse.
    // Prepare
    const scanner = new TradesArrayScanner();

    // Act
    const act = () => {
      scanner.feed(text);
      scanner.end();
    };

    // Assess
    expect(act).toThrow(kind);
  });

  it('writes CSV cells as csv-stringify does', () => {
    // Why: the CSV output is byte-identical to today's, which csv-stringify wrote.
    // Prepare
    const values = [
      '',
      'a',
      'a,b',
      'say "hi"',
      'line\nbreak',
      'cr\rx',
      ' lead',
      '-1.5',
      '=SUM(A1)',
      '"',
      ',',
      'é',
    ];

    for (const value of values) {
      // Act
      const ours = `${csvCell(value)},${csvCell(null)}\n`;

      // Assess
      expect(ours, JSON.stringify(value)).toBe(stringifyCsv([[value, null]]));
    }
  });
});
