// `fifo replay` as an operator runs it: the real CLI in a child process, on files in a temp dir.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOCATION_COLUMNS, allocationRow, computeFifo, lotSummary } from '../../shared/fifo/index.ts';
import { buy, type RawRow, sell, tradesOf } from '../fifo/arbitraries.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/fifo.js ...args` in the repository and never rejects: the exit code is data. */
function fifo(...args: string[]): Promise<CliRun> {
  return new Promise((done) => {
    execFile('node', ['bin/fifo.js', ...args], { cwd: repo, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

const ALLOCATION_KEYS = [
  'sell_order_id',
  'buy_order_id',
  'symbol',
  'allocated_size',
  'buy_price',
  'sell_price',
  'buy_fees_per_unit',
  'sell_fees_per_unit',
  'cost_basis_usd',
  'proceeds_usd',
  'net_proceeds_usd',
  'pnl_usd',
  'buy_time',
  'sell_time',
  'notes',
];
const NULLABLE = new Set([
  'buy_order_id',
  'buy_price',
  'buy_fees_per_unit',
  'cost_basis_usd',
  'pnl_usd',
  'buy_time',
  'notes',
]);

/** Two symbols, a sell spanning lots, a buy and a sell at one timestamp, and one unmatched sell. */
const TRADES: RawRow[] = [
  buy('b1', '2024-01-01T00:00:00Z', '1.5', '100', '0.15'),
  buy('b2', '2024-01-01T00:00:00Z', '2', '110.5', '0.2'),
  sell('s1', '2024-01-02T00:00:00Z', '2.5', '120', '0.3'),
  buy('e1', '2024-01-01T00:00:00Z', '10', '3.33333333', '0', 'ETH-USD'),
  sell('e2', '2024-01-01T00:00:00Z', '4', '3.5', '0.01', 'ETH-USD'),
  sell('s2', '2024-01-03T00:00:00Z', '2.25', '125', '0.1'),
];

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fifo-replay-'));
  await writeFile(file('trades.json'), JSON.stringify({ trades: TRADES }));
  const header = ['symbol', 'order_id', 'side', 'order_time', 'price', 'size', 'fee'] as const;
  const csv = [header.join(','), ...TRADES.map((t) => header.map((h) => `"${t[h] ?? ''}"`).join(','))].join(
    '\n',
  );
  await writeFile(file('trades.csv'), `${csv}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The JSON output is a contract for scripts: exact keys, key order, and numbers as strings.
describe('fifo replay: JSON output', () => {
  it('has exactly the documented shape and key order, with every number a string', async () => {
    // Prepare
    const input = file('trades.json');

    // Act
    const run = await fifo('replay', input);

    // Assess
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(run.stdout);
    expect(Object.keys(out)).toEqual(['allocations', 'lots', 'summary']);
    expect(out.allocations.length).toBeGreaterThan(0);
    for (const a of out.allocations) {
      expect(Object.keys(a)).toEqual(ALLOCATION_KEYS);
      for (const [key, value] of Object.entries(a)) {
        if (value === null) expect(NULLABLE.has(key)).toBe(true);
        else expect(typeof value).toBe('string');
      }
    }
    for (const lot of out.lots) {
      expect(Object.keys(lot)).toEqual([
        'buy_order_id',
        'symbol',
        'size',
        'remaining_size',
        'remaining_cost_usd',
      ]);
      for (const value of Object.values(lot)) expect(typeof value).toBe('string');
    }
    expect(out.summary).toEqual({
      trades: '6',
      allocations: String(out.allocations.length),
      unmatched_sells: '1',
      realized_pnl_usd: expect.any(String),
    });
  });

  // The CLI must print what the engine computes, formatted by the shared output module.
  it('prints the engine result for the file', async () => {
    // Prepare
    const expected = computeFifo(tradesOf(TRADES));

    // Act
    const run = await fifo('replay', file('trades.json'));

    // Assess
    const out = JSON.parse(run.stdout);
    expect(out.allocations).toEqual(expected.allocations.map(allocationRow));
    expect(out.lots).toEqual(expected.lots.map(lotSummary));
    expect(
      out.allocations.find((a: { buy_order_id: string | null }) => a.buy_order_id === null),
    ).toMatchObject({
      sell_order_id: 's2',
      allocated_size: '1.25',
      cost_basis_usd: null,
      pnl_usd: null,
    });
    expect(out.summary.realized_pnl_usd).toBe('53.96222224');
  });

  // The same trades as CSV (any column order, quoted cells) must give byte-identical output.
  it('gives the same output for CSV input as for JSON input', async () => {
    // Prepare
    const fromJson = await fifo('replay', file('trades.json'));

    // Act
    const fromCsv = await fifo('replay', file('trades.csv'));

    // Assess
    expect(fromCsv).toEqual({ code: 0, stdout: fromJson.stdout, stderr: '' });
  });
});

// --format csv is for spreadsheets: the allocation columns, nulls as empty cells.
describe('fifo replay --format csv', () => {
  it('prints the allocations as CSV with the column header', async () => {
    // Prepare
    const json = JSON.parse((await fifo('replay', file('trades.json'))).stdout);

    // Act
    const run = await fifo('replay', file('trades.json'), '--format', 'csv');

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(ALLOCATION_COLUMNS.join(','));
    expect(ALLOCATION_COLUMNS).toEqual(ALLOCATION_KEYS);
    const rows = parseCsv(run.stdout, { columns: true });
    const withEmpty = json.allocations.map((a: Record<string, string | null>) =>
      Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v ?? ''])),
    );
    expect(rows).toEqual(withEmpty);
  });
});

// --on-unmatched error turns an uncovered sell into a failure an operator cannot miss.
describe('fifo replay --on-unmatched error', () => {
  it('exits non-zero naming the sell and the uncovered size, with nothing on stdout', async () => {
    // Prepare
    const input = file('trades.json');

    // Act
    const run = await fifo('replay', input, '--on-unmatched', 'error');

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('sell s2');
    expect(run.stderr).toContain('1.25 of 2.25');
  });

  it('succeeds when every sell is covered', async () => {
    // Prepare
    const covered = file('covered.json');
    await writeFile(covered, JSON.stringify({ trades: TRADES.filter((t) => t.order_id !== 's2') }));

    // Act
    const run = await fifo('replay', covered, '--on-unmatched', 'error');

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).summary.unmatched_sells).toBe('0');
  });
});

// Bad input must be reported row by row so an operator can fix the file in one pass.
describe('fifo replay: bad input', () => {
  it('exits non-zero with one line per bad JSON row and no stdout', async () => {
    // Prepare
    const bad = file('bad.json');
    const rows = [
      TRADES[0],
      { ...TRADES[1], size: '-2', price: 'abc' },
      TRADES[2],
      { ...TRADES[3], side: 'hold' },
    ];
    await writeFile(bad, JSON.stringify({ trades: rows }));

    // Act
    const run = await fifo('replay', bad);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/2 bad trades/);
    expect(lines[1]).toMatch(/^trade 2 \(order_id b2\): .*price.*size/);
    expect(lines[2]).toMatch(/^trade 4 \(order_id e1\): side must be buy or sell/);
  });

  // CSV rows are named by their line in the file, the header being line 1.
  it('names bad CSV rows by line', async () => {
    // Prepare
    const bad = file('bad.csv');
    await writeFile(
      bad,
      'order_id,symbol,side,order_time,price,size,fee\nb1,BTC-USD,buy,2024-01-01,1,1,\nb2,BTC-USD,buy,never,1,0,\n',
    );

    // Act
    const run = await fifo('replay', bad);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^line 3 \(order_id b2\): order_time .*; size must be greater than zero/);
  });

  // A file the CLI cannot read as trades is one clear error, not a stack trace.
  it.each([
    ['missing.json', null, /cannot read/],
    ['trades.txt', 'x', /unknown file type/],
    ['not-json.json', '{"trades": [', /not valid JSON/],
    ['no-trades.json', '{"rows": []}', /expected an object/],
    [
      'short-header.csv',
      'order_id,symbol,side\nb1,BTC-USD,buy\n',
      /header lacks order_time, price, size, fee/,
    ],
  ])('reports an unusable file %s', async (name, content, message) => {
    // Prepare
    if (content !== null) await writeFile(file(name), content);

    // Act
    const run = await fifo('replay', file(name));

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

// --dust lets an operator write off tiny unmatched remainders, visibly, per symbol.
describe('fifo replay --dust', () => {
  it('writes off an unmatched remainder below the threshold and logs it', async () => {
    // Prepare
    const input = file('trades.json');

    // Act
    const run = await fifo('replay', input, '--dust', 'ETH-USD=1', '--dust', 'BTC-USD=1.5');

    // Assess
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.allocations.filter((a: { buy_order_id: string | null }) => a.buy_order_id === null)).toEqual(
      [],
    );
    expect(out.summary.unmatched_sells).toBe('0');
    expect(run.stderr).toMatch(
      /dust written off: sell s2 \(BTC-USD\) 1\.25 BTC, under the --dust threshold of 1\.5 BTC/,
    );
  });

  it('keeps the unmatched row when the remainder is not below the threshold', async () => {
    // Prepare
    const input = file('trades.json');

    // Act
    const run = await fifo('replay', input, '--dust', 'BTC-USD=1.25', '--dust', 'ETH-USD=100');

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).summary.unmatched_sells).toBe('1');
    expect(run.stderr).toBe('');
  });

  it.each(['BTC-USD', '=1', 'BTC-USD=abc', 'BTC-USD=-1'])('refuses --dust %s', async (dust) => {
    // Prepare
    const input = file('trades.json');

    // Act
    const run = await fifo('replay', input, '--dust', dust);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/dust/);
  });
});

// --help is how an operator discovers the commands and options.
describe('fifo --help', () => {
  it('describes the program and its replay command', async () => {
    // Prepare
    const args = ['--help'];

    // Act
    const run = await fifo(...args);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: fifo /);
    expect(run.stdout).toMatch(/replay \[options\] <file>/);
  });

  it('describes replay and all of its options', async () => {
    // Prepare
    const args = ['replay', '--help'];

    // Act
    const run = await fifo(...args);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: fifo replay \[options\] <file>/);
    for (const option of ['--format', '--on-unmatched', '--dust']) expect(run.stdout).toContain(option);
  });
});
