/**
 * `fifo report` as an operator runs it: the real CLI in a child process, on a database prepared
 * here with trades from the last hours. That is the test server's when TEST_DATABASE_URL is set,
 * else an embedded one kept in a temp dir (each CLI start loads it, seconds of CPU), so the
 * file needs no server and no AWS.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../shared/db/embedded.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { type Database, openDatabase } from '../../shared/db/pool.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import { generateTrades } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let work: string;
/** How the CLI finds the prepared database: DATABASE_URL, or FIFO_EMBEDDED_DIR. */
let databaseEnv: Record<string, string>;
let serverDatabase: TestDatabase | undefined;
let realized: { cents: string; rows: number };

/** Runs `node bin/fifo.js ...args` on the prepared database; the exit code is data. */
function fifo(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !k.startsWith('REPORT_')),
  );
  return new Promise((done) => {
    execFile(
      'node',
      ['bin/fifo.js', ...args],
      { cwd: repo, timeout: 60_000, env: { ...base, ...databaseEnv, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Fills a migrated database: five hours of trades that end an hour ago (all inside the default
 * 24 h window), built as version 1; keeps their realized PnL for the assertions.
 */
async function prepare(db: Database): Promise<void> {
  const start = new Date(Date.now() - 6 * 3_600_000).toISOString();
  await insertTrades(db.pool, [...generateTrades({ trades: 300, symbols: 2, seed: 3, start })]);
  await runFullRebuild(db, { version: 1 });
  const { rows } = await db.pool.query<{ cents: string; rows: string }>(
    `SELECT to_char(round(sum(pnl_usd), 2), 'FM999999990.00') AS cents, count(*)::text AS rows
     FROM fifo_allocations WHERE allocation_version = 1`,
  );
  realized = { cents: rows[0]!.cents, rows: Number(rows[0]!.rows) };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fifo-report-cli-'));
  if (serverUrl) {
    serverDatabase = await createTestDatabase();
    await prepare(serverDatabase);
    databaseEnv = { DATABASE_URL: serverDatabase.url };
    return;
  }
  const dataDir = join(work, 'data');
  const embedded = await startEmbeddedPostgres(dataDir);
  const db = await openDatabase({ connectionString: embedded.connectionString, max: 1 });
  try {
    const client = await db.pool.connect();
    await migrate(client).finally(() => client.release());
    await prepare(db);
  } finally {
    await db.close();
    await embedded.stop();
  }
  databaseEnv = { FIFO_EMBEDDED_DIR: dataDir };
});

afterAll(async () => {
  await serverDatabase?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('fifo report', () => {
  it('--out writes report.html, report.txt and report.csv', async () => {
    // Prepare
    const out = join(work, 'out');

    // Act
    const run = await fifo(['report', '--out', out, '--tz', 'America/New_York']);

    // Assess
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `report written to ${join(out, 'report.html')}, ${join(out, 'report.txt')}, ${join(out, 'report.csv')}`,
    );
    const [html, text, csv] = await Promise.all(
      ['report.html', 'report.txt', 'report.csv'].map((f) => readFile(join(out, f), 'utf8')),
    );
    expect(html).toContain('<table role="presentation" width="600"');
    expect(html).toContain('Attached: report.csv');
    expect(text).toContain('days in America/New_York');
    expect(text).toContain('Attached: report.csv');
    const rows = parseCsv(csv!, { columns: true }) as Record<string, string>[];
    expect(rows.filter((r) => r.section === 'allocation')).toHaveLength(realized.rows);
    expect([...new Set(rows.map((r) => r.section))]).toEqual(
      expect.arrayContaining(['allocation', 'entry_trigger', 'exit_trigger', 'source', 'position']),
    );
    const shown = realized.cents.startsWith('-') ? realized.cents : `+${realized.cents}`;
    expect(text).toMatch(
      new RegExp(`Realized PnL\\s+${shown.replace('+', '\\+').replace(/\B(?=(\d{3})+(?!\d))/g, ',')} USD`),
    );
  });

  it('prints the text report to stdout without --out', async () => {
    // Why: an operator reads it in the terminal; logs stay on stderr.
    // Prepare
    const args = ['report', '--hours', '48'];

    // Act
    const run = await fifo(args);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^fifo-ledger daily report, \d{4}-\d{2}-\d{2}\nWindow: 48 h, /);
    expect(run.stdout).toContain('FIFO HEALTH (version 1)');
  });

  it('--send without REPORT_SENDER and REPORT_RECIPIENTS fails clearly, before touching the database', async () => {
    // Why: a missing setting must name the variables, not surface as an SES error.
    // Prepare
    const args = ['report', '--send'];

    // Act
    // Both ways to a database lead nowhere (a refused port, an embedded dir not yet made), so
    // the settings message can only come from before either is tried.
    const run = await fifo(args, {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      FIFO_EMBEDDED_DIR: join(work, 'never-created'),
    });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'fifo: sending the report needs REPORT_SENDER and REPORT_RECIPIENTS (sender address; comma-separated recipients)\n',
    );
    expect(existsSync(join(work, 'never-created'))).toBe(false);
  });

  it('rejects an unknown time zone and a bad window', async () => {
    // Why: a typo in --tz would otherwise fail deep in SQL or silently use another zone.
    // Prepare
    const badZone = ['report', '--tz', 'Mars/Olympus'];
    const badHours = ['report', '--hours', '0'];

    // Act
    const [zone, hours] = await Promise.all([fifo(badZone), fifo(badHours)]);

    // Assess
    expect([zone.code, hours.code]).toEqual([1, 1]);
    expect(zone.stderr).toContain(
      '--tz must be an IANA time zone such as "UTC" or "America/New_York", got "Mars/Olympus"',
    );
    expect(hours.stderr).toContain('--hours must be a whole number from 1 to 8784, got "0"');
  });

  it('takes the section settings as options over their REPORT_* variables, and names the one at fault', async () => {
    // Why: an operator tries a price table or a fee rate from the shell before setting it for the Lambda.
    // Prepare
    const good = [
      'report',
      '--price-table',
      'no_such_prices',
      '--starting-equity',
      '5000',
      '--taker-fee',
      '0.6%',
    ];
    const badOption = ['report', '--maker-fee', '60%'];

    // Act
    const [run, option, variable] = await Promise.all([
      fifo(good, { REPORT_STARTING_EQUITY: '1' }),
      fifo(badOption),
      fifo(['report'], { REPORT_ROUNDTRIP_SECONDS: 'soon' }),
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('NEEDS: a table or view no_such_prices with columns symbol');
    expect(run.stdout).toMatch(/Starting equity\s+5,000\.00\s+from the REPORT_STARTING_EQUITY setting/);
    expect(run.stdout).toMatch(/Break-even move, taker\s+1\.207%\s+0\.600% in and out/);
    expect([option.code, variable.code]).toEqual([1, 1]);
    expect(option.stderr).toContain(
      '--maker-fee: must be a fee rate such as "0.3%" or "0.003", under 50%, got "60%"',
    );
    expect(variable.stderr).toContain(
      'REPORT_ROUNDTRIP_SECONDS: must be a whole number of seconds from 0 to 86400',
    );
  });
});
