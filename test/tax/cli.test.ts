/**
 * `fifo tax-report` as an operator runs it: the real CLI in a child process against a database
 * holding a few hand-computed BTC trades. It writes the CSV and the totals, flags the sell
 * without a lot and exits 2, reports it at zero basis with a warning when asked, reconciles
 * with a broker CSV without changing a row, and refuses bad input with one line and exit 1.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import type { SampleTrade } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { ZERO_BASIS_NOTE } from '../../shared/tax/index.ts';
import { createSharedDatabase, runCli } from '../legacy/support.ts';
import type { TestDatabase } from '../support/database.ts';

const btc = (
  order_id: string,
  side: 'buy' | 'sell',
  order_time: string,
  size: string,
  price: string,
  fee = '0',
) => ({ order_id, symbol: 'BTC-USD', side, order_time, size, price, fee }) satisfies SampleTrade;

const FORMULA_ID = '=HYPERLINK("http://x")';

/**
 * b1 1 BTC @ 20,000 + 2 fee on 2024-03-15. s1 sells 0.4 on the anniversary (short, H, gain
 * 3,998), s2 0.4 the day after (long, K, 4,397.96), s3 0.5 of which 0.2 empties b1 (long, K,
 * 2,399.60) and 0.3 has no lot (MISSING BASIS, net 9,600). b2 1 BTC @ 40,000; s4 sells 0.5 at
 * 22:00 on New Year's Eve in New York, 03:00 UTC on 2026-01-01 (short, H, 500).
 */
const TRADES: SampleTrade[] = [
  btc('b1', 'buy', '2024-03-15T15:00:00Z', '1', '20000', '2'),
  btc('s1', 'sell', '2025-03-15T15:00:00Z', '0.4', '30000', '1.2'),
  btc('s2', 'sell', '2025-03-16T15:00:00Z', '0.4', '31000', '1.24'),
  btc(FORMULA_ID, 'sell', '2025-06-01T15:00:00Z', '0.5', '32000'),
  btc('b2', 'buy', '2025-12-01T15:00:00Z', '1', '40000'),
  btc('s4', 'sell', '2026-01-01T03:00:00Z', '0.5', '41000'),
];

let db: TestDatabase;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fifo-tax-cli-'));
  db = await createSharedDatabase();
  const client = await db.pool.connect();
  await migrate(client).finally(() => client.release());
  await insertTrades(db.pool, TRADES);
  await runFullRebuild(db, { version: 1 });
}, 120_000);
afterAll(async () => {
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

const NY = ['--year', '2025', '--tz', 'America/New_York'];

describe('fifo tax-report', () => {
  it('writes the rows and the totals to --out, flags the sell without a lot and exits 2', async () => {
    // Why: what the operator relies on: the CSV on disk, the totals shown, an exit code a script notices.
    // Prepare
    const out = join(work, 'out');

    // Act
    const run = await runCli(db.url, ['tax-report', ...NY, '--out', out]);

    // Assess
    expect(run.code, run.stderr).toBe(2);
    const [header, ...rows] = parse(await readFile(join(out, 'form8949-2025.csv'), 'utf8')) as string[][];
    const column = (name: string) => rows.map((r) => r[header!.indexOf(name)]);
    expect(column('sell_order_id')).toEqual(['s1', 's2', `'${FORMULA_ID}`, `'${FORMULA_ID}`, 's4']);
    expect(column('box')).toEqual(['H', 'K', 'K', '', 'H']);
    expect(column('h_gain')).toEqual(['3998', '4397.96', '2399.6', '', '500']);
    expect(column('flag')).toEqual(['', '', '', 'MISSING BASIS', '']);
    expect(column('c_date_sold')).toEqual([
      '03/15/2025',
      '03/16/2025',
      '06/01/2025',
      '06/01/2025',
      '12/31/2025',
    ]);
    const totals = await readFile(join(out, 'form8949-2025-totals.csv'), 'utf8');
    expect(totals).toContain('all,,,4,51297.56,40002,0,11295.56\n');
    expect(totals).toContain('missing basis (not in the totals),,,1,9600,,,\n');
    expect(run.stdout).toMatch(/^H +short +2 +32,498\.8 +28,000\.8 +0 +4,498$/m);
    expect(run.stdout).toMatch(/^K +long +2 +18,798\.76 +12,001\.2 +0 +6,797\.56$/m);
    expect(run.stdout).toContain(`  fifo explain '${FORMULA_ID}' --version 1\n`);
    expect(run.stderr.trim().split('\n')).toEqual([
      'fifo: 1 sells (1 slices) have no cost basis: flagged MISSING BASIS, left out of the totals (proceeds 9600 USD); ' +
        'run fifo explain on each, or pass --unmatched zero-basis (exit 2)',
    ]);
  });

  it('with --unmatched zero-basis reports the sell at a basis of 0 with the note and a warning, and exits 0', async () => {
    // Why: the operator chose it, so it is a result; the warning and column (f) still say what it is.
    // Prepare
    const args = ['tax-report', ...NY, '--unmatched', 'zero-basis', '--format', 'json'];

    // Act
    const run = await runCli(db.url, args);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const body = JSON.parse(run.stdout);
    const unmatched = body.rows.find((r: { flag: string | null }) => r.flag === 'MISSING BASIS');
    expect(unmatched).toMatchObject({ e_cost_basis: '0', f_code: ZERO_BASIS_NOTE, h_gain: '9600', box: 'H' });
    expect(unmatched.sell_order_id).toBe(FORMULA_ID);
    expect(body.totals.all).toMatchObject({ rows: 5, gain: '20895.56' });
    expect(run.stderr).toMatch(
      /^warning: 1 sells \(1 slices\) have no lot and are reported at a cost basis of 0/m,
    );
  });

  it('reconciles with a broker CSV, listing the differences, and leaves the rows as they are', async () => {
    // Why: the broker's 1099-DA is checked against the ledger; the operator decides, the report does not move.
    // Prepare
    const broker = join(work, 'broker.csv');
    await writeFile(
      broker,
      'Date Sold,Asset,Quantity,Gross Proceeds\n' +
        '2025-03-15,BTC,0.4,"$11,998.80"\n' +
        '2025-03-16,BTC,0.4,"$12,398.00"\n' +
        '2025-04-01,BTC,1,100\n',
    );
    const plain = await runCli(db.url, ['tax-report', ...NY]);

    // Act
    const run = await runCli(db.url, ['tax-report', ...NY, '--broker-csv', broker]);

    // Assess
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe(plain.stdout);
    expect(run.stderr).toContain(
      'broker rows that match nothing: 1\n  line 4: 2025-04-01 BTC 1, proceeds 100',
    );
    expect(run.stderr).toContain('fifo-ledger sells that match nothing: 2\n');
    expect(run.stderr).toContain(
      '  2025-03-16 BTC: quantity 0, proceeds -0.76, basis not reported by the broker',
    );
  });

  it.each([
    [['--year', '25'], /^fifo: --year must be a tax year from 2009 to 9998, such as 2026, got "25"$/],
    [
      ['--year', '2025', '--tz', 'Mars/Olympus'],
      /^fifo: --tz must be an IANA time zone .*got "Mars\/Olympus"$/,
    ],
    [
      ['--year', '2025', '--broker-csv', '/nonexistent/broker.csv'],
      /^fifo: --broker-csv \/nonexistent\/broker\.csv: cannot read it \(ENOENT\)$/,
    ],
    [
      ['--year', '2025', '--broker-columns', 'quantity=Units'],
      /^fifo: --broker-columns maps the headers of --broker-csv FILE, which is missing$/,
    ],
    [['--year', '2025', '--version', '9'], /^fifo: version 9 was never built in .*; versions that exist: 1 /],
  ])('refuses %j with one line and exit 1', async (args, message) => {
    // Why: bad input must say which option or file is wrong, never print a stack trace.
    // Prepare
    const command = ['tax-report', ...args];

    // Act
    const run = await runCli(db.url, command);

    // Assess
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(message);
  });

  it('refuses a broker CSV with a bad value, naming the file, the line and the column', async () => {
    // Why: the operator must find the bad cell in a file of thousands of rows.
    // Prepare
    const broker = join(work, 'bad-broker.csv');
    await writeFile(broker, 'date_sold,asset,quantity,proceeds\n2025-03-15,BTC,0.4,twelve\n');

    // Act
    const run = await runCli(db.url, ['tax-report', ...NY, '--broker-csv', broker]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `fifo: --broker-csv ${broker} line 2, proceeds ("proceeds"): "twelve" is not a decimal number`,
    );
  });
});
