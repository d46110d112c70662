/**
 * `fifo health` judges: the report's verdict and reasons on stdout, an exit
 * code a cron job can act on (0 OK, 1 error, 2 WARNING, 3 STALE), a version never built is an
 * error naming the versions that exist, the embedded database says so on stdout, a run shows
 * when it started and when it ended, and unmatched sizes are per symbol, never summed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_EXIT_CODES, type HealthView, healthJson, healthText } from '../../bin/cli/jobs.ts';
import { ALLOCATION_COLUMNS } from '../../shared/fifo/index.ts';
import type { Health, RunSummary } from '../../shared/jobs/health.ts';
import { runFullRebuild } from '../../shared/jobs/index.ts';
import type { SampleTrade } from '../../shared/sample/generator.ts';
import { insertTrades } from '../../shared/sample/load.ts';
import { type CliRun, repo, runCli } from '../legacy/support.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const trade = (
  order_id: string,
  symbol: string,
  side: 'buy' | 'sell',
  minutes: number,
  size: string,
  price: string,
): SampleTrade => ({ order_id, symbol, side, order_time: minutesAgo(minutes), size, price, fee: '0' });

/** A database with these trades, fully rebuilt as version 1. */
async function builtDatabase(trades: SampleTrade[]): Promise<TestDatabase> {
  const db = await createTestDatabase();
  await insertTrades(db.pool, trades);
  await runFullRebuild(db, { version: 1 });
  return db;
}

/** `node bin/fifo.js ...args` with DATABASE_URL unset and the embedded database in `dir`. */
function runEmbedded(dir: string, args: string[]): Promise<CliRun> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && k !== 'FIFO_ALLOCATION_VERSION'),
  );
  return new Promise((done) => {
    execFile(
      'node',
      ['bin/fifo.js', ...args],
      { cwd: repo, timeout: 120_000, env: { ...env, FIFO_EMBEDDED_DIR: dir } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

describe('fifo health on a real database', { tags: 'server' }, () => {
  const dbs: Record<'ok' | 'stale' | 'warning' | 'versions', TestDatabase> = {} as never;
  beforeAll(async () => {
    [dbs.ok, dbs.stale, dbs.warning, dbs.versions] = await Promise.all([
      // Every sell covered, nothing pending, a fresh full rebuild.
      builtDatabase([
        trade('b1', 'BTC-USD', 'buy', 60, '1', '40000'),
        trade('s1', 'BTC-USD', 'sell', 30, '0.5', '41000'),
      ]),
      builtDatabase([trade('b1', 'BTC-USD', 'buy', 60, '1', '40000')]),
      // Two unmatched sells in two assets: 0.2 BTC and 33395 TOSHI, which must never add up.
      builtDatabase([
        trade('b1', 'BTC-USD', 'buy', 60, '1', '40000'),
        trade('s1', 'BTC-USD', 'sell', 30, '1.2', '41000'),
        trade('t1', 'TOSHI-USD', 'sell', 20, '33395', '0.000423'),
      ]),
      builtDatabase([
        trade('b1', 'BTC-USD', 'buy', 60, '1', '40000'),
        trade('s1', 'BTC-USD', 'sell', 30, '0.5', '41000'),
      ]),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(dbs).map((db) => db?.drop()));
  });

  it('exits 0 with the verdict OK on a fresh, clean version, and shows when its run started and ended', async () => {
    // Why: a cron job must tell a healthy version from a sick one by the exit code alone.
    // Prepare
    const url = dbs.ok.url;

    // Act
    const [text, json] = await Promise.all([runCli(url, ['health']), runCli(url, ['health', '--json'])]);

    // Assess
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^verdict: +OK\n/);
    expect(text.stdout).toMatch(
      /last full rebuild: +completed; started \d{4}-\d\d-\d\dT[\d:.]+Z, ended \d{4}-\d\d-\d\dT[\d:.]+Z, took \d/,
    );
    expect(text.stdout).toMatch(/last successful full: +the last run above/);
    expect(text.stdout).toMatch(/unmatched sells: +0 all time, 0 in the last 24 h\n/);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body).toMatchObject({ verdict: 'OK', reasons: [], version: 1, database: { embedded: false } });
    expect(body.last_run.full.ended_at >= body.last_run.full.started_at).toBe(true);
  });

  it('exits 3 with the verdict STALE when a change has waited longer than the threshold', async () => {
    // Why: the 5-minute schedule stopping is what the verdict exists to catch.
    // Prepare: a new fill captured 20 minutes ago, no incremental run since.
    await insertTrades(dbs.stale.pool, [trade('s1', 'BTC-USD', 'sell', 25, '0.5', '41000')]);
    await dbs.stale.pool.query(`UPDATE fifo_trade_changes SET recorded_at = now() - interval '20 minutes'`);

    // Act
    const run = await runCli(dbs.stale.url, ['health']);

    // Assess
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/^verdict: +STALE\n/);
    expect(run.stdout).toContain('  STALE: the oldest of 1 pending change is 20 min old (limit 15 min)\n');
    expect(run.stdout).toContain('  STALE: 1 change pending and no incremental run has ever completed\n');
  });

  it('exits 2 with the verdict WARNING for unmatched sells, their sizes per symbol, never summed', async () => {
    // Why: 0.2 BTC + 33395 TOSHI = "33395.2" is a number of nothing.
    // Prepare
    const url = dbs.warning.url;

    // Act
    const [text, json] = await Promise.all([runCli(url, ['health']), runCli(url, ['health', '--json'])]);

    // Assess
    expect(text.code, text.stderr).toBe(2);
    expect(text.stdout).toMatch(/^verdict: +WARNING\n/);
    expect(text.stdout).toContain(
      '  WARNING: 2 sells in the last 24 h had no open lot for part or all of it\n',
    );
    expect(text.stdout).toMatch(
      /unmatched sells: +2 all time, 2 in the last 24 h \(BTC-USD 1 sell, size 0\.2; TOSHI-USD 1 sell, size 33395\)\n/,
    );
    expect(text.stdout).not.toContain('33395.2');
    expect(json.code).toBe(2);
    const body = JSON.parse(json.stdout);
    expect(body.verdict).toBe('WARNING');
    expect(body.unmatched_sells).toEqual({
      count: 2,
      rows: 2,
      by_symbol: [
        { symbol: 'BTC-USD', sells: 1, size: '0.2' },
        { symbol: 'TOSHI-USD', sells: 1, size: '33395' },
      ],
    });
    expect(body.window).toMatchObject({ hours: 24, unmatched_sells: 2, failed_runs: 0 });
  });

  it('exits 1 in one line for a version never built, naming the versions that exist', async () => {
    // Why: `--version 7` by mistake used to look like a healthy, empty version.
    // Prepare: version 5 exists only as allocation rows another program wrote (no fifo_versions row).
    const columns = ALLOCATION_COLUMNS.join(', ');
    await dbs.versions.pool.query(
      `INSERT INTO fifo_allocations (${columns}, allocation_version)
       SELECT ${columns}, 5 FROM fifo_allocations WHERE allocation_version = 1`,
    );

    // Act
    const [text, json] = await Promise.all([
      runCli(dbs.versions.url, ['health', '--version', '7']),
      runCli(dbs.versions.url, ['health', '--version', '7', '--json']),
    ]);

    // Assess
    for (const run of [text, json]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(
        /^fifo: version 7 was never built in postgres:\/\/\S+; versions that exist: 1, 5 \(build it with: fifo full --version 7\)\n$/,
      );
    }
  });
});

describe('fifo health with DATABASE_URL unset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fifo-health-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says on stdout, in the verdict, that it is the embedded database and not the bot’s', async () => {
    // Why: a forgotten DATABASE_URL showed an empty embedded database as if it were the bot's.
    // Prepare: an empty embedded database, then one version built in it.
    const before = await runEmbedded(dir, ['health']);
    const full = await runEmbedded(dir, ['full']);

    // Act
    const text = await runEmbedded(dir, ['health']);
    const json = await runEmbedded(dir, ['health', '--json']);

    // Assess
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(
      `version 1 was never built in embedded PostgreSQL in ${dir} (no DATABASE_URL); versions that exist: none`,
    );
    expect(full.code, full.stderr).toBe(0);
    const note = `no DATABASE_URL: this is the embedded PostgreSQL in ${dir}, not your bot's database`;
    expect(text.code, text.stderr).toBe(2);
    expect(text.stdout).toMatch(/^verdict: +WARNING\n/);
    expect(text.stdout).toContain(`  WARNING: ${note}\n`);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      verdict: 'WARNING',
      reasons: [{ level: 'WARNING', text: note }],
      database: { embedded: true },
    });
  }, 120_000);
});

describe('the health text and JSON', () => {
  const run = (over: Partial<RunSummary> = {}): RunSummary => ({
    id: '10',
    status: 'completed',
    startedAt: '2026-01-02T03:00:00.000000Z',
    endedAt: '2026-01-02T03:00:01.500000Z',
    durationMs: 1500,
    error: null,
    ...over,
  });
  const health: Health = {
    version: 3,
    lastRun: {
      full: run(),
      incremental: run({
        id: '12',
        status: 'running',
        startedAt: '2026-01-02T04:00:00.000000Z',
        endedAt: null,
        durationMs: null,
      }),
    },
    lastSuccess: {
      full: run(),
      incremental: run({
        id: '11',
        startedAt: '2026-01-02T03:55:00.000000Z',
        endedAt: '2026-01-02T03:55:00.250000Z',
        durationMs: 250,
      }),
    },
    lagSeconds: 30,
    pendingChanges: 1,
    unmatchedSells: {
      count: 3,
      rows: 3,
      bySymbol: [
        { symbol: 'BTC-USD', sells: 1, size: '0.2' },
        { symbol: 'TOSHI-USD', sells: 2, size: '33395' },
      ],
    },
    allocations: 40,
    openLots: 4,
    lastDrift: { at: '2026-01-02T03:00:00.000000Z', rows: 0, usd: '0' },
    rejectedTrades: 0,
    abandonedRuns: 0,
    runInProgress: true,
    mirrorMismatches: 2,
    foreignRuns24h: 1,
  };
  const view: HealthView = {
    health,
    verdict: 'WARNING',
    reasons: [{ level: 'WARNING', text: '1 sell in the last 24 h had no open lot for part or all of it' }],
    window: {
      hours: 24,
      start: '2026-01-01T04:00:00.000Z',
      end: '2026-01-02T04:00:00.000Z',
      unmatchedSells: 1,
      failedRuns: 0,
    },
    database: { description: 'postgres://fifo:***@db/bot', embedded: false },
  };

  it('shows the verdict first, each run’s start, end and duration, and sizes per symbol', () => {
    // Why: "completed at <start>" read as the end; a sum of units across assets means nothing.
    // Prepare: the view above.

    // Act
    const lines = healthText(view).split('\n');

    // Assess
    expect(lines.slice(0, 2)).toEqual([
      'verdict:                WARNING',
      '  WARNING: 1 sell in the last 24 h had no open lot for part or all of it',
    ]);
    expect(lines).toContain(
      'last full rebuild:      completed; started 2026-01-02T03:00:00.000000Z, ended 2026-01-02T03:00:01.500000Z, took 1.5 s',
    );
    expect(lines).toContain(
      'last incremental run:   running; started 2026-01-02T04:00:00.000000Z, not ended yet',
    );
    expect(lines).toContain('last successful full:   the last run above');
    expect(lines).toContain(
      'last successful incr.:  completed; started 2026-01-02T03:55:00.000000Z, ended 2026-01-02T03:55:00.250000Z, took 250 ms',
    );
    expect(lines).toContain(
      'unmatched sells:        3 all time, 1 in the last 24 h (BTC-USD 1 sell, size 0.2; TOSHI-USD 2 sells, size 33395)',
    );
    expect(lines.some((l) => l.startsWith('remaining_size mirror:  2 buys rewritten'))).toBe(true);
    expect(lines.some((l) => l.startsWith('other FIFO writers:     1 log row by another program'))).toBe(
      true,
    );
  });

  it('is snake_case JSON with the verdict, the reasons and per-symbol unmatched sizes', () => {
    // Why: every other command's JSON is snake_case; a script reads the verdict from it.
    // Prepare
    const keys = (value: unknown): string[] =>
      value && typeof value === 'object'
        ? Object.entries(value).flatMap(([k, v]) => (Array.isArray(value) ? keys(v) : [k, ...keys(v)]))
        : [];

    // Act
    const json = healthJson(view);

    // Assess
    expect(keys(json).filter((k) => !/^[a-z0-9]+(_[a-z0-9]+)*$/.test(k))).toEqual([]);
    expect(json).toMatchObject({
      verdict: 'WARNING',
      reasons: view.reasons,
      version: 3,
      last_run: {
        full: {
          id: '10',
          status: 'completed',
          started_at: '2026-01-02T03:00:00.000000Z',
          ended_at: '2026-01-02T03:00:01.500000Z',
          duration_ms: 1500,
          error: null,
        },
      },
      unmatched_sells: {
        count: 3,
        rows: 3,
        by_symbol: [
          { symbol: 'BTC-USD', sells: 1, size: '0.2' },
          { symbol: 'TOSHI-USD', sells: 2, size: '33395' },
        ],
      },
      mirror_mismatches: 2,
      foreign_runs_24h: 1,
      run_in_progress: true,
    });
    expect(JSON.stringify(json)).not.toMatch(/"size":"33395\.2"/);
  });

  it('maps each verdict to its exit code: 0 OK, 2 WARNING, 3 STALE', () => {
    // Why: scripts and cron act on these; 1 stays the code of an error.
    // Prepare, Act: the table itself.

    // Assess
    expect(HEALTH_EXIT_CODES).toEqual({ OK: 0, WARNING: 2, STALE: 3, FAILED: 3 });
  });
});
