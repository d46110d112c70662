/**
 * One output contract: every command's JSON matches its schema in
 * bin/cli/schemas with snake_case keys; text amounts have 2 decimals unless --exact; drift is
 * named allocation rows and lot rows; help names the environment and writes defaults one way;
 * `adopt check` keeps `adopt --check`; `explain` explains any order id.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_WINDOW_HOURS } from '../../bin/cli/jobs.ts';
import { usdText } from '../../bin/cli/options.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { DEFAULT_WINDOW_HOURS } from '../../shared/report/config.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { fifo, loadSchema, nonSnakeKeys, oneLineError, schemaErrors } from './support.ts';

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const t = (
  order_id: string,
  side: 'buy' | 'sell',
  minutes: number,
  size: string,
  price: string,
  fee = '0',
) => ({
  order_id,
  symbol: 'BTC-USD',
  side,
  order_time: ago(minutes),
  size,
  price,
  fee,
});

describe('the pure parts', () => {
  it('rounds text amounts to 2 decimals half away from zero, and keeps them exact with --exact', () => {
    // Why: "-5147.86169707" in a text line reads as noise; JSON keeps the exact figure.
    // Assess
    expect(usdText('-5147.86169707')).toBe('-5,147.86');
    expect(usdText('0.005')).toBe('0.01');
    expect(usdText('-0.004')).toBe('0.00');
    expect(usdText('1992')).toBe('1,992.00');
    expect(usdText('-5147.86169707', true)).toBe('-5147.86169707');
  });

  it("health's window is the report's default window", () => {
    // Why: the constant is written out in bin/cli/jobs.ts so a start does not load the report's config.
    expect(HEALTH_WINDOW_HOURS).toBe(DEFAULT_WINDOW_HOURS);
  });
});

describe('help texts', () => {
  const commands = [
    ['replay'],
    ['migrate'],
    ['full'],
    ['incremental'],
    ['health'],
    ['explain'],
    ['demo'],
    ['report'],
    ['adopt'],
    ['legacy', 'archive'],
    ['legacy', 'restore'],
    ['reconcile'],
    ['compare'],
    ['prune'],
  ];
  it.each(commands)('%s names the environment it reads and writes defaults one way', async (...command) => {
    // Why: an operator reads help to learn what the command reads; "default" once came three ways.
    // Act
    const run = await fifo([...command, '--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\nEnvironment:\n/);
    // Every default as "(default: X)" or "; default: X" (wrapped lines allowed), never quoted.
    const flat = run.stdout.replace(/\s+/g, ' ');
    expect(flat).not.toMatch(/\(default [^:]|default: "|default:[^ ]|[^(; ]default:/);
    if (command[0] !== 'replay') expect(run.stdout).toContain('DATABASE_URL');
    if (
      command[0] !== 'replay' &&
      command[0] !== 'compare' &&
      command[0] !== 'migrate' &&
      command[0] !== 'adopt' &&
      command[0] !== 'legacy'
    ) {
      expect(run.stdout).toContain('FIFO_ALLOCATION_VERSION');
    }
  });

  it('the program help names DATABASE_URL, FIFO_ALLOCATION_VERSION and .fifo-data', async () => {
    // Why: no help text named them, so an operator could not tell which database answered.
    // Act
    const run = await fifo(['--help']);

    // Assess
    for (const text of [
      'DATABASE_URL',
      'FIFO_ALLOCATION_VERSION',
      'FIFO_EMBEDDED_DIR',
      '(default: .fifo-data)',
    ]) {
      expect(run.stdout).toContain(text);
    }
  });
});

describe('replay --format ndjson', () => {
  it('prints one allocation per line, each as the JSON output has it', async () => {
    // Why: NDJSON is the streaming form of the allocations for scripts.
    // Act
    const [json, ndjson] = await Promise.all([
      fifo(['replay', 'examples/trades.csv']),
      fifo(['replay', 'examples/trades.csv', '--format', 'ndjson']),
    ]);

    // Assess
    const out = JSON.parse(json.stdout);
    expect(schemaErrors(loadSchema('replay'), out)).toEqual([]);
    const lines = ndjson.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(out.allocations);
    const schema = loadSchema('replay');
    for (const line of lines) expect(schemaErrors({ $ref: '#/$defs/allocation' }, line, schema)).toEqual([]);
  });
});

describe('replay --json on the --on-unmatched error and --dust paths', () => {
  // BTC: 1 bought, 1.25 sold (0.25 without a lot); ETH: every sell covered.
  const CSV = [
    'order_id,symbol,side,order_time,price,size,fee',
    'b1,BTC-USD,buy,2026-01-01T09:00:00Z,40000.12,1,4.1',
    's1,BTC-USD,sell,2026-01-02T09:00:00Z,41000.37,1.25,5.33333333',
    'e1,ETH-USD,buy,2026-01-01T09:00:00Z,3000,2,1',
    'e2,ETH-USD,sell,2026-01-03T09:00:00Z,3100.5,0.5,0.25',
  ];
  let dir: string;
  const file = (name: string) => join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fifo-contract-replay-'));
    await writeFile(file('uncovered.csv'), `${CSV.join('\n')}\n`);
    await writeFile(file('covered.csv'), `${CSV.filter((l) => !l.startsWith('s1,')).join('\n')}\n`);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['--on-unmatched error, every sell covered', 'covered.csv', ['--on-unmatched', 'error'], '0', 0],
    ['--dust writing off the uncovered 0.25', 'uncovered.csv', ['--dust', 'BTC-USD=0.5'], '0', 1],
    [
      '--on-unmatched error with --dust covering the rest',
      'uncovered.csv',
      ['--on-unmatched', 'error', '--dust', 'BTC-USD=0.5'],
      '0',
      1,
    ],
    ['an unmatched row (the default)', 'uncovered.csv', [], '1', 0],
  ] as const)(
    '%s: the JSON matches its schema, every key snake_case',
    async (_, name, options, unmatched, dustLines) => {
      // Why: these paths write their result through a held temporary file or drop rows; scripts read the same shape.
      // Act
      const run = await fifo(['replay', file(name), ...options]);

      // Assess
      expect(run.code, run.stderr).toBe(0);
      const value = JSON.parse(run.stdout);
      expect(schemaErrors(loadSchema('replay'), value)).toEqual([]);
      expect(nonSnakeKeys(value)).toEqual([]);
      expect(value.summary.unmatched_sells).toBe(unmatched);
      const dust = run.stderr.split('\n').filter((l) => l.startsWith('dust written off'));
      expect(dust).toHaveLength(dustLines);
    },
  );

  it('--on-unmatched error on an uncovered sell prints no JSON at all, and one line', async () => {
    // Why: a script must never parse a partial result as the whole one.
    // Act
    const run = await fifo(['replay', file('uncovered.csv'), '--on-unmatched', 'error']);

    // Assess
    expect(run.stdout).toBe('');
    expect(oneLineError(run)).toMatch(/sell s1 .*0\.25 of 1\.25/);
  });
});

describe('on a database', { tags: 'server' }, () => {
  let db: TestDatabase;
  let work: string;
  let env: Record<string, string>;
  const cli = (args: string[]) => fifo(args, env);
  const json = async (args: string[]) => {
    const run = await cli(args);
    return { run, value: JSON.parse(run.stdout) };
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    work = await mkdtemp(join(tmpdir(), 'fifo-contract-'));
    await insertTrades(db.pool, [
      t('b1', 'buy', 300, '1', '40000', '4'),
      t('b2', 'buy', 200, '1', '41000', '4'),
      t('s1', 'sell', 100, '1.5', '42000', '6'),
      t('s2', 'sell', 50, '0.7', '39000', '2.73'),
      t('s3', 'sell', 40, '0.1', '39000'),
      t('bad', 'buy', 30, '-1', '40000'),
    ]);
    await db.pool.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status)
       VALUES ('c1', 'BTC-USD', 'buy', now() - interval '20 minutes', 40000, 1, 0, 'cancelled'),
              ('b1-FILL-1', 'BTC-USD', 'buy', now() - interval '300 minutes', 40000, 0.5, 2, 'filled')`,
    );
    await runFullRebuild(db, { version: 1 });
    env = { DATABASE_URL: db.url };
    await writeFile(join(work, 'x'), '');
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each([
    ['full', ['full', '--dry-run', '--json']],
    ['incremental', ['incremental', '--json']],
    ['health', ['health', '--json']],
    ['explain', ['explain', 's1', '--json']],
    ['adopt', ['adopt', 'check', '--json']],
    ['reconcile', ['reconcile', '--all', '--json']],
    ['prune', ['prune', '--keep', '1', '--active', '1', '--dry-run', '--json']],
    ['legacy-restore', ['legacy', 'restore', '--json']],
  ])('%s --json matches its schema, every key snake_case', async (schema, args) => {
    // Why: scripts parse this JSON; its shape is documented per command and must hold.
    // Act
    const { run, value } = await json(args);

    // Assess
    expect([0, 2, 3], run.stderr).toContain(run.code);
    expect(schemaErrors(loadSchema(schema), value)).toEqual([]);
    expect(nonSnakeKeys(value)).toEqual([]);
  });

  it('full prints realized PnL and drift as named allocation and lot rows, 2 decimals unless --exact', async () => {
    // Why: one drift read "5 rows" here and "3 rows" in health; amounts showed 8 decimals.
    // Act: one after the other, since runs of one version take its lock (a second would skip)
    const text = await cli(['full', '--dry-run']);
    const exact = await cli(['full', '--dry-run', '--exact']);
    const asJson = await json(['full', '--dry-run', '--json']);

    // Assess
    expect(text.stdout).toMatch(
      /realized PnL 1,484\.05 USD; drift 0 allocation rows and 0 lot rows, 0\.00 USD/,
    );
    expect(exact.stdout).toMatch(/realized PnL 1484\.05 USD; drift 0 allocation rows and 0 lot rows, 0 USD/);
    expect(asJson.value).toMatchObject({ realized_pnl_usd: '1484.05', drift_rows: 0, drift_lot_rows: 0 });
  });

  it('adopt, adopt check and adopt --check are the same check', async () => {
    // Why: `adopt` had a required --check flag; the old spelling stays for scripts and the runbook.
    // Act
    const runs = await Promise.all([
      cli(['adopt', '--json']),
      cli(['adopt', 'check', '--json']),
      cli(['adopt', '--check', '--json']),
    ]);

    // Assess
    const shapes = runs.map((r) => Object.keys(JSON.parse(r.stdout)));
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
    expect(runs.map((r) => r.code)).toEqual([runs[0]!.code, runs[0]!.code, runs[0]!.code]);
  });

  describe('explain', () => {
    it('a buy: its lot, the sells that took from it, and what remains', async () => {
      // Why: a buy once showed "realized pnl: 0 USD" and no lot.
      // Act
      const [text, asJson] = await Promise.all([cli(['explain', 'b2']), json(['explain', 'b2', '--json'])]);

      // Assess
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('lot: 1 bought');
      expect(text.stdout).toMatch(
        /taken by sell s1 .*size 0\.5, cost 20,502\.00, net proceeds 20,998\.00, pnl 496\.00/,
      );
      expect(text.stdout).toMatch(/taken by sell s2 .*pnl -1,003\.95/);
      expect(text.stdout).toMatch(/0 remain, remaining cost 0\.00 USD/);
      expect(asJson.value).toMatchObject({
        kind: 'buy',
        buy: { taken_size: '1', realized_pnl_usd: '-507.95' },
      });
      expect(schemaErrors(loadSchema('explain'), asJson.value)).toEqual([]);
    });

    it('a sell partly or wholly without a lot: no cost basis, PnL not known, never 0', async () => {
      // Why: a wholly unmatched sell once read "realized pnl: 0 USD", which looks like breakeven.
      // Act
      const [partly, wholly, asJson] = await Promise.all([
        cli(['explain', 's2']),
        cli(['explain', 's3']),
        json(['explain', 's3', '--json']),
      ]);

      // Assess
      expect(partly.stdout).toMatch(
        /no open lot for size 0\.2: net proceeds 7,799\.22, no cost basis: PnL not known/,
      );
      expect(partly.stdout).toMatch(
        /realized pnl: -1,003\.95 USD on the 0\.5 matched; no cost basis for the other 0\.2/,
      );
      expect(wholly.stdout).toMatch(/realized pnl: no cost basis: PnL not known/);
      expect(wholly.stdout).not.toMatch(/pnl: 0/);
      expect(asJson.value.sell).toMatchObject({ pnl_known: false, realized_pnl_usd: null, slices: [] });
    });

    it.each([
      [
        'c1',
        'status',
        /not in FIFO: its status is "cancelled": FIFO counts only trades whose status is NULL, filled or done/,
      ],
      ['b1-FILL-1', 'fill_row', /not in FIFO: it is a per-fill row/],
      ['bad', 'rejected', /not in FIFO: rejected as a bad row: /],
    ])('a trade left out (%s): why, and which rule', async (id, rule, message) => {
      // Why: an excluded trade once got "no trade and no allocation", though it is in trade_records.
      // Act
      const [text, asJson] = await Promise.all([cli(['explain', id]), json(['explain', id, '--json'])]);

      // Assess
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(message);
      expect(asJson.value).toMatchObject({ kind: 'excluded', excluded: { rule } });
    });

    it('an id in no table says so, in text and JSON, and exits 1', async () => {
      // Why: the operator must tell a typo from a trade FIFO ignored.
      // Act
      const [text, asJson] = await Promise.all([
        cli(['explain', 'nope']),
        json(['explain', 'nope', '--json']),
      ]);

      // Assess
      expect(text).toMatchObject({ code: 1, stdout: '' });
      expect(text.stderr).toBe(
        'fifo: no trade with order_id "nope" in trade_records, and no allocation or lot of version 1\n',
      );
      expect(asJson.run.code).toBe(1);
      expect(asJson.value).toMatchObject({ kind: 'not_found', trade: null });
    });
  });
});

describe('compare, reconcile and legacy archive, on a database of their own', { tags: 'server' }, () => {
  // Amounts with more than 2 decimals everywhere: prices, sizes and fees of 8, a legacy PnL of 9.
  let db: TestDatabase;
  let env: Record<string, string>;
  const cli = (args: string[]) => fifo(args, env);
  const json = async (args: string[]) => {
    const run = await cli(args);
    return { run, value: JSON.parse(run.stdout) };
  };
  /** A difference as text shows it: 2 decimals with an explicit sign, "0.00" unsigned. */
  const signedText = (exact: string) => {
    const shown = usdText(exact);
    return shown === '0.00' || shown.startsWith('-') ? shown : `+${shown}`;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    await insertTrades(db.pool, [
      t('b1', 'buy', 300, '0.33333333', '40000.12', '1.23456789'),
      t('b2', 'buy', 200, '0.5', '41000.77', '2.5'),
      t('s1', 'sell', 100, '0.6', '42000.33', '3.33333333'),
      t('s2', 'sell', 50, '0.2', '39000.01', '0.77777777'),
    ]);
    await db.pool.query(
      `UPDATE trade_records SET pnl_usd = CASE order_id WHEN 's1' THEN 1000.123456789 ELSE -7.987654321 END
       WHERE side = 'sell'`,
    );
    await runFullRebuild(db, { version: 1 });
    await runFullRebuild(db, { version: 2 });
    // Version 2 differs: one sell's PnL by a fraction of a cent, another sell absent.
    await db.pool.query(
      `UPDATE fifo_allocations SET pnl_usd = pnl_usd + 0.12345678 WHERE allocation_version = 2 AND sell_order_id = 's1'`,
    );
    await db.pool.query(`DELETE FROM fifo_allocations WHERE allocation_version = 2 AND sell_order_id = 's2'`);
    env = { DATABASE_URL: db.url };
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('compare --json matches its schema with differing and missing sells, every key snake_case', async () => {
    // Why: a version that differs is when compare's JSON is read; its differences must hold the documented shape.
    // Act
    const { run, value } = await json(['compare', '--versions', '1,2', '--json']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(schemaErrors(loadSchema('compare'), value)).toEqual([]);
    expect(nonSnakeKeys(value)).toEqual([]);
    expect(value.differences.map((d: { status: string }) => d.status).sort()).toEqual([
      'only_a',
      'pnl_differs',
    ]);
  });

  it('compare text shows amounts with 2 decimals, exact with --exact', async () => {
    // Why: the text once printed every amount as stored, 8 decimals and more.
    // Act
    const [text, exact, asJson] = await Promise.all([
      cli(['compare', '--versions', '1,2']),
      cli(['compare', '--versions', '1,2', '--exact']),
      json(['compare', '--versions', '1,2', '--json']),
    ]);

    // Assess
    const c = asJson.value;
    expect(c.a.realized_pnl).toMatch(/\.\d{3,}$/);
    expect(text.stdout).not.toMatch(/\d\.\d{3}/);
    expect(text.stdout).toContain(`total difference (2 - 1): ${signedText(c.total_difference)} USD`);
    expect(text.stdout).toMatch(new RegExp(`\\s${usdText(c.a.realized_pnl).replace('.', '\\.')}\\n`));
    expect(exact.stdout).toContain(`total difference (2 - 1): +${c.total_difference} USD`);
    expect(exact.stdout).toContain(` ${c.a.realized_pnl}\n`);
  });

  it('reconcile text shows amounts with 2 decimals, exact with --exact', async () => {
    // Why: the legacy and FIFO totals read as noise with all their decimals; JSON keeps them exact.
    // Act
    const [text, exact, asJson] = await Promise.all([
      cli(['reconcile', '--all']),
      cli(['reconcile', '--all', '--exact']),
      json(['reconcile', '--all', '--json']),
    ]);

    // Assess
    const r = asJson.value;
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.replace(/\d{2}:\d{2}:\d{2}\.\d+Z/g, '')).not.toMatch(/\d\.\d{3}/);
    expect(text.stdout).toContain(
      `legacy total ${usdText(r.legacy_total)}, FIFO total ${usdText(r.fifo_total)}: ` +
        `total difference ${signedText(r.total_difference)} USD`,
    );
    expect(exact.stdout).toContain(
      `legacy total ${r.legacy_total}, FIFO total ${r.fifo_total}: total difference ${r.total_difference} USD`,
    );
    expect(exact.stdout).toContain('1000.123456789');
  });

  it('legacy archive --json matches its schema, every key snake_case', async () => {
    // Why: the archive is the step an operator scripts before the columns go; its counts are read by name.
    // Act: last, since it sets the legacy values NULL
    const { run, value } = await json(['legacy', 'archive', '--json']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(schemaErrors(loadSchema('legacy-archive'), value)).toEqual([]);
    expect(nonSnakeKeys(value)).toEqual([]);
    expect(value).toMatchObject({ archived_rows: 2, cleared_rows: 2, conflicts: 0 });
  });
});
