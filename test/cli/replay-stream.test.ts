/**
 * `fifo replay` streams: its output is byte for byte what the in-memory
 * replay printed, whether the input fits one sorted run or spills many to disk, for JSON, CSV and
 * NDJSON output; the JSON reader and the CSV writer agree with JSON.parse and csv-stringify.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, IdFilter, replay } from '../../bin/cli/replay.ts';
import { TradesArrayScanner } from '../../bin/cli/replay-json.ts';
import {
  ALLOCATION_COLUMNS,
  allocationRow,
  computeFifo,
  formatUsd,
  lotSummary,
  parseTrades,
  type RawTrade,
  realizedPnl,
  TRADE_FIELDS,
  unmatchedSellCount,
} from '../../shared/fifo/index.ts';
import { generateTrades, type SampleTrade } from '../../shared/sample/generator.ts';
import { repo } from './support.ts';

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
    lots: result.lots.map(lotSummary),
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
  delete process.env.FIFO_REPLAY_SUSPECTS;
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

describe('repeated order ids', () => {
  // A triple, a repeat on a row that is bad anyway, and a repeat far from its first row.
  const rows: { -readonly [K in keyof SampleTrade]: SampleTrade[K] }[] = history
    .slice(0, 400)
    .map((t) => ({ ...t }));
  rows[100]!.order_id = rows[10]!.order_id;
  rows[200]!.order_id = rows[10]!.order_id;
  rows[300] = { ...rows[300]!, order_id: rows[50]!.order_id, size: '-1' };
  rows[399]!.order_id = rows[0]!.order_id;

  it.each([
    ['csv', undefined],
    ['json', undefined],
    ['csv', '1'],
    ['json', '1'],
  ] as const)(
    '%s, suspects kept in memory up to %s: each repeat names its first row, as parseTrades does',
    async (input, suspects) => {
      // Why: the ids are checked through a filter, then exactly, or sorted when too many repeat;
      // every way must name the same rows as the in-memory check.
      // Prepare
      if (suspects) process.env.FIFO_REPLAY_SUSPECTS = suspects;
      process.env.FIFO_REPLAY_RUN_TRADES = '97';
      const file = join(dir, `repeats.${input}`);
      await writeFile(
        file,
        input === 'json'
          ? JSON.stringify({ trades: rows })
          : `${[TRADE_FIELDS.join(','), ...rows.map((t) => TRADE_FIELDS.map((f) => t[f]).join(','))].join('\n')}\n`,
      );
      const { errors } = parseTrades(rows as unknown as RawTrade[], (i) =>
        input === 'csv' ? `line ${i + 2}` : `trade ${i + 1}`,
      );

      // Act
      const failure = await streamed(file, 'csv').then(
        () => null,
        (error: Error) => error.message,
      );

      // Assess
      expect(errors).toHaveLength(4);
      expect(failure).toBe(`4 bad trades in ${file}:\n${errors.join('\n')}`);
    },
  );

  it('the filter never misses a repeat and seldom names an id that is not one', () => {
    // Why: a missed repeat would let a duplicated trade into FIFO; false alarms only cost a second reading.
    // Prepare
    const filter = new IdFilter(1 << 20);
    const ids = Array.from({ length: 20_000 }, (_, i) => `order-${i}-${(i * 7919) % 10007}`);

    // Act
    const first = ids.map((id) => filter.add(id));
    const again = ids.map((id) => filter.add(id));

    // Assess
    expect(again.every((seen) => seen)).toBe(true);
    expect(first.filter((seen) => seen).length).toBeLessThan(5);
  });
});

describe('memory bounded by the open lots, not by the history', () => {
  // Held in memory as the replay once held them (the rows, the result and the output text),
  // 120,000 trades take some 250 MB of heap. Streaming, the replay holds one sort run (5,000
  // trades here), the open lots and a read-ahead per run (docs/performance.md, `fifo replay`):
  // it finishes in a heap capped at 48 MB.
  const TRADES = 120_000;
  const HEAP_MB = 48;
  let big: string;
  beforeAll(async () => {
    big = join(dir, 'big.csv');
    const lines = [TRADE_FIELDS.join(',')];
    for (const t of generateTrades({ trades: TRADES, symbols: 20, seed: 3 })) {
      lines.push(TRADE_FIELDS.map((f) => t[f]).join(','));
    }
    await writeFile(big, `${lines.join('\n')}\n`);
  });

  /** `fifo replay big.csv` as the operator runs it, in a child whose old-space heap is capped. */
  const capped = (format: 'json' | 'csv') =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(
        'node',
        [`--max-old-space-size=${HEAP_MB}`, 'bin/fifo.js', 'replay', big, '--format', format],
        {
          cwd: repo,
          timeout: 170_000,
          maxBuffer: 1 << 30,
          env: { ...process.env, FIFO_REPLAY_RUN_TRADES: '5000' },
        },
        (error, stdout, stderr) => {
          done({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
            stdout,
            stderr,
          });
        },
      );
    });

  it('replays 120,000 trades to JSON and to CSV in a 48 MB heap', async () => {
    // Why: only a replay that streams gets through a heap far smaller than the history it
    // reads; one that held the file, the result or the output would run out of heap.
    // Act
    const [json, csv] = await Promise.all([capped('json'), capped('csv')]);

    // Assess
    expect(json.code, json.stderr.slice(0, 2000)).toBe(0);
    expect(csv.code, csv.stderr.slice(0, 2000)).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.summary.trades).toBe(String(TRADES));
    expect(String(out.allocations.length)).toBe(out.summary.allocations);
    expect(csv.stdout.trimEnd().split('\n')).toHaveLength(out.allocations.length + 1);
  }, 180_000);
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
