/**
 * The runbook, end to end: on a fresh database loaded from the bot's production DDL
 * (test/fixtures/bot-schema.sql), with a few thousand trades and version 2 written as the bot's
 * programs write them, docs/migration.md's steps 0 to 7 run through the real CLI (child
 * processes with DATABASE_URL) with no manual fix. The commands and SQL blocks are taken from
 * the runbook itself, so the runbook and this test cannot drift apart. The bot's programs
 * (test/legacy/support.ts, BotPrograms) keep writing during the parallel run, as in
 * production, and are switched off at the cut-over as the runbook says.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBotSchema } from '../support/bot-schema.ts';
import { serverUrl, type TestDatabase } from '../support/database.ts';
import {
  type BotFill,
  BotPrograms,
  botFills,
  type CliRun,
  catalogFingerprint,
  createSharedDatabase,
  dataFingerprint,
  legacyBytes,
  pendingChanges,
  repo,
  runCli,
  VIEWS,
  withClient,
} from './support.ts';

/** Exact sums of the CLI's decimal figures (the default 20 digits would round them). */
const Dec = Decimal.clone({ precision: 60 });

/** A parsed --json result; the assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: parsed CLI output, checked field by field below
type Json = Record<string, any>;

// --- the runbook, as written ----------------------------------------------------------------

const RUNBOOK = readFileSync(join(repo, 'docs/migration.md'), 'utf8');

/** The text of the runbook's "## Step N: ..." section. */
function step(n: number): string {
  const start = RUNBOOK.indexOf(`\n## Step ${n}:`);
  if (start < 0) throw new Error(`docs/migration.md has no "## Step ${n}:" section`);
  const end = RUNBOOK.indexOf('\n## ', start + 1);
  return RUNBOOK.slice(start, end < 0 ? undefined : end);
}

function blocks(text: string, language: string): string[] {
  const fence = new RegExp(`^[ \\t]*\`\`\`${language}\\n([\\s\\S]*?)^[ \\t]*\`\`\``, 'gm');
  return [...text.matchAll(fence)].map((m) => m[1]!);
}

/** The section's SQL blocks, in order. */
const sqlBlocks = (text: string) => blocks(text, 'sql');

/** The section's `npx fifo ...` commands (sh blocks), as argument lists, in order. */
function fifoCommands(text: string): string[][] {
  return blocks(text, 'sh')
    .flatMap((b) => b.split('\n'))
    .map((line) => /npx fifo (.*)$/.exec(line)?.[1])
    .filter((rest): rest is string => rest !== undefined)
    .map((rest) => rest.replace(/#.*$/, '').replace(/>.*$/, '').trim().split(/\s+/));
}

/** The commands a step names: its sh blocks, and inline code like `fifo health --version 3`. */
function mentioned(text: string): string[][] {
  const inline = [...text.matchAll(/`(?:npx )?fifo ([^`<>…]+)`/g)].map((m) => m[1]!.trim().split(/\s+/));
  return [...fifoCommands(text), ...inline];
}

/** Runs `fifo <args>` as the runbook's step writes it (checked), with `extra` appended. */
async function runbook(n: number, args: string[], extra: string[] = []): Promise<CliRun> {
  expect(mentioned(step(n)), `docs/migration.md step ${n} runs fifo ${args.join(' ')}`).toContainEqual(args);
  return fifo([...args, ...extra]);
}

/** runbook() for a command that must exit 0, with --json appended, parsed. */
async function runbookJson(n: number, args: string[]): Promise<Json> {
  const run = await runbook(n, args, ['--json']);
  expect(run.code, `fifo ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as Json;
}

// --- the database and the bot ---------------------------------------------------------------

let db: TestDatabase;
let bot: BotPrograms;
/** The history before fifo-ledger, and the fills that arrive during the parallel run. */
let history: BotFill[];
let later: BotFill[];

/** A stack frame line (`    at fn (file:1:2)`): no output may contain one. */
const NO_STACK = /^[ \t]+at /m;

/** `fifo <args>`, never with a stack trace in its output. */
async function fifo(args: string[]): Promise<CliRun> {
  const run = await runCli(db.url, args);
  expect(run.stderr, `fifo ${args.join(' ')}: stack trace on stderr`).not.toMatch(NO_STACK);
  expect(run.stdout, `fifo ${args.join(' ')}: stack trace on stdout`).not.toMatch(NO_STACK);
  return run;
}

/** `fifo <args>` that must exit 0, parsed as JSON. */
async function fifoJson(args: string[]): Promise<Json> {
  const run = await fifo(args);
  expect(run.code, `fifo ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as Json;
}

/** Several read-only commands: at once on a server, one after the other on the embedded one. */
async function together<T extends (() => Promise<unknown>)[]>(
  ...work: T
): Promise<{ [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  if (serverUrl) return (await Promise.all(work.map((w) => w()))) as never;
  const out: unknown[] = [];
  for (const w of work) out.push(await w());
  return out as never;
}

/**
 * `fifo health --version 3`, as text: the lines the runbook tells the operator to read. It exits
 * 0, or 2 when its verdict is WARNING (this history has unmatched sells in the last 24 h).
 */
async function health(n: number): Promise<string> {
  const run = await runbook(n, ['health', '--version', '3']);
  expect([0, 2], `fifo health: ${run.stderr}`).toContain(run.code);
  return run.stdout;
}

async function views() {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const view of VIEWS) out[view] = (await db.pool.query(`SELECT * FROM ${view} ORDER BY 1`)).rows;
  return out;
}

async function viewDefinitions(): Promise<Record<string, string>> {
  const { rows } = await db.pool.query<{ name: string; def: string }>(
    `SELECT viewname::text AS name, definition AS def FROM pg_views
     WHERE schemaname = 'public' AND viewname LIKE 'v\\_%' ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.def]));
}

async function scalar<T = string>(sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await db.pool.query(sql, params);
  return Object.values(rows[0] as object)[0] as T;
}

/** Every row of a version (with ids and times), one md5: a version untouched keeps it. */
const versionFingerprint = (version: number) =>
  scalar(
    `SELECT md5(coalesce(string_agg(f::text, E'\\n' ORDER BY f.id), '')) || ':' || count(*)
     FROM fifo_allocations f WHERE allocation_version = $1`,
    [version],
  );

const rowsOf = (version: number) =>
  scalar<number>('SELECT count(*)::int FROM fifo_allocations WHERE allocation_version = $1', [version]);

/** Realized PnL per symbol of a version, as v_pnl_by_symbol words it. */
const pnlBySymbol = async (version: number) =>
  (
    await db.pool.query(
      `SELECT symbol, count(DISTINCT sell_order_id) AS sells, sum(pnl_usd) AS pnl FROM fifo_allocations
       WHERE allocation_version = $1 GROUP BY symbol ORDER BY 1`,
      [version],
    )
  ).rows;

/** Buys of the trade source whose remaining_size mirror differs from their lot in version 3. */
const mirrorsDiffering = () =>
  scalar<number>(
    `SELECT count(*)::int FROM trade_records t
     JOIN fifo_lots l ON l.allocation_version = 3 AND l.buy_order_id = t.order_id
     WHERE t.remaining_size IS DISTINCT FROM l.remaining_size::double precision`,
  );

const legacyValues = () =>
  scalar<number>('SELECT count(*)::int FROM trade_records WHERE pnl_usd IS NOT NULL');

/** The compare figures that must hold whatever the versions hold. */
async function expectComparisonAddsUp(compare: Json) {
  const sums = async (v: number) =>
    (
      await db.pool.query(
        `SELECT count(*)::int AS allocations, count(DISTINCT sell_order_id)::int AS sells,
                coalesce(trim_scale(sum(pnl_usd)), 0)::text AS pnl
         FROM fifo_allocations WHERE allocation_version = $1`,
        [v],
      )
    ).rows[0];
  const [a, b] = [await sums(2), await sums(3)];
  expect(compare.a).toMatchObject({
    version: 2,
    allocations: a.allocations,
    sells: a.sells,
    realized_pnl: a.pnl,
  });
  expect(compare.b).toMatchObject({
    version: 3,
    allocations: b.allocations,
    sells: b.sells,
    realized_pnl: b.pnl,
  });
  expect(compare.total_difference).toBe(new Dec(b.pnl).minus(a.pnl).toFixed());
  // The bot's script computes per unit, fifo-ledger on totals: the sells differ by rounding only.
  expect(compare.sells).toMatchObject({ only_in_a: 0, only_in_b: 0, in_both: a.sells });
  expect(compare.rows).toEqual({ only_in_a: 0, only_in_b: 0 });
  expect(compare.sells.pnl_differs).toBeGreaterThan(0);
  for (const d of compare.differences) expect(new Dec(d.difference).abs().lte('0.000001')).toBe(true);
}

const HISTORY_TRADES = 3000;
const LATER_TRADES = 400;

beforeAll(async () => {
  db = await createSharedDatabase();
  await createBotSchema(db.pool, { data: false });
  bot = new BotPrograms(db.pool);
  // Hours before now, so that the parallel run's trades fall in the last 24 hours.
  const start = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 60 * 3_600_000).toISOString();
  const all = botFills({ trades: HISTORY_TRADES + LATER_TRADES, seed: 13, start });
  history = botFills({ trades: HISTORY_TRADES, seed: 13, start });
  later = all.slice(history.length);
  // The months before fifo-ledger: the recorder (back-filled in bulk here), a bot start every
  // 500 fills, a reconcile pass that reports fills again unchanged, cancelled orders, and the
  // bot's FIFO cron: the nightly run and a 5-minute one.
  for (let i = 0; i < history.length; i += 500) {
    await bot.record(history.slice(i, i + 500), { perStatement: 250 });
    await bot.restart();
  }
  await bot.record(
    history.filter((_, i) => i % 97 === 0),
    { reconcilePass: true, perStatement: 50 },
  );
  await bot.cancel(
    history.filter((f, i) => i % 331 === 5 && !f.order_id.includes('-FILL-')).map((f) => f.order_id),
  );
  await bot.fifo();
  await bot.fifo([history.at(-1)!.symbol]);
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

// --- the steps, in order; each builds on the one before ---------------------------------------

/** State the steps pass on. */
const saved: {
  botViews?: string;
  views?: Record<string, Record<string, unknown>[]>;
  definitions?: Record<string, string>;
  v2?: string;
  v3?: string;
} = {};

describe("docs/migration.md on the bot's production schema, through the CLI", () => {
  it('step 0: the view definitions and remaining_size are saved, nothing else changes', async () => {
    // Why: steps 3 and 5 change the bot's views and every run rewrites the mirror; the rollbacks need both.
    // Prepare
    const dataBefore = await dataFingerprint(db.pool);
    const saveViews = /psql "\$DATABASE_URL" -Atc "([\s\S]*?)" > bot-views\.sql/.exec(step(0))?.[1];
    const [backup] = sqlBlocks(step(0));

    // Act
    const { rows } = await db.pool.query(saveViews!);
    await db.pool.query(backup!);

    // Assess
    saved.botViews = rows.map((r) => Object.values(r)[0]).join('\n');
    saved.views = await views();
    saved.definitions = await viewDefinitions();
    saved.v2 = await versionFingerprint(2);
    expect(saved.botViews.match(/CREATE OR REPLACE VIEW v_\w+ AS/g)).toHaveLength(4);
    expect(await scalar<number>('SELECT count(*)::int FROM backup_remaining_size')).toBe(
      await scalar<number>('SELECT count(*)::int FROM trade_records WHERE remaining_size IS NOT NULL'),
    );
    const { backup_remaining_size: _, ...dataAfter } = await dataFingerprint(db.pool);
    expect(dataAfter).toEqual(dataBefore);
  });

  it('step 1: adopt --check reports the bot database and changes nothing', async () => {
    // Why: the operator decides from this report; it must describe production as it is, read-only.
    // Prepare
    const catalogBefore = await catalogFingerprint(db.pool);
    const dataBefore = await dataFingerprint(db.pool);

    // Act
    const [text, json] = await together(
      () => runbook(1, ['adopt', '--check']),
      () => runbook(1, ['adopt', '--check', '--json']),
    );

    // Assess: exit 0, warnings only, the cascading keys, version 2 as the bot wrote it
    expect([text.code, json.code]).toEqual([0, 0]);
    expect(text.stdout).toMatch(/Verdict: migrate can be applied/);
    const problems = text.stdout
      .slice(text.stdout.indexOf('\nPROBLEMS\n') + 10)
      .trim()
      .split('\n');
    expect(problems.every((p) => /^\s*(none|WARNING: )/.test(p))).toBe(true);
    const check = JSON.parse(json.stdout) as Json;
    expect(check.ok).toBe(true);
    expect(check.foreign_keys.map((fk: Json) => fk.on_delete)).toEqual(['CASCADE', 'CASCADE']);
    expect(check.versions).toEqual([
      expect.objectContaining({
        version: 2,
        allocations: await rowsOf(2),
        sells: await scalar<number>(
          'SELECT count(DISTINCT sell_order_id)::int FROM fifo_allocations WHERE allocation_version = 2',
        ),
      }),
    ]);
    expect(check.legacy.trades_with_values).toBe(
      await scalar<number>(
        `SELECT count(*)::int FROM trade_records WHERE num_nonnulls(pnl_usd, realized_profit, cost_basis_usd,
           sale_proceeds_usd, net_sale_proceeds_usd, parent_id) > 0`,
      ),
    );
    expect(await catalogFingerprint(db.pool)).toBe(catalogBefore);
    expect(await dataFingerprint(db.pool)).toEqual(dataBefore);
  });

  it("step 2: migrate adopts the schema, keeps the bot's rows and views, and fifo full --version 2 refuses", async () => {
    // Why: the migration runs on the live bot database; it must keep everything the bot reads, and no fifo-ledger run may overwrite the bot's version.
    // Prepare
    const legacyBefore = await withClient(db.pool, (c) => legacyBytes(c));

    // Act
    const migrated = await runbook(2, ['migrate']);
    const check = await fifoJson(['adopt', '--check', '--json']);
    const dataBefore = await dataFingerprint(db.pool);
    // One after the other: both take version 2's lock, and the second would be skipped as busy.
    const full2 = await fifo(['full', '--version', '2']);
    const incremental2 = await fifo(['incremental', '--version', '2']);

    // Assess
    expect(migrated.code, migrated.stderr).toBe(0);
    const migrations = readdirSync(join(repo, 'migrations'))
      .filter((f) => f.endsWith('.sql'))
      .map((f) => f.replace(/\.sql$/, ''))
      .sort();
    expect(migrated.stdout).toBe(`applied: ${migrations.join(', ')}\n`);
    expect(check).toMatchObject({ ok: true, up_to_date: true, changes: [], foreign_keys: [] });
    expect(await views()).toEqual(saved.views);
    expect(await versionFingerprint(2)).toBe(saved.v2);
    expect(await withClient(db.pool, (c) => legacyBytes(c))).toEqual(legacyBefore);
    const rows = (await rowsOf(2)).toLocaleString('en-US');
    for (const refused of [full2, incremental2]) {
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(
          `^fifo: version 2 holds ${rows} allocation rows that fifo-ledger did not write .*--take-over-version.*\\n$`,
        ),
      );
    }
    expect(await dataFingerprint(db.pool)).toEqual(dataBefore);
  });

  it('step 3: version 3 is built beside version 2, compared and reconciled; the views stay on version 2', async () => {
    // Why: the first build must leave the bot's version and views as they were and explain every difference.
    // Prepare
    const [pin] = sqlBlocks(step(3));

    // Act
    await db.pool.query(pin!);
    const full = await runbook(3, ['full', '--version', '3']);
    const [healthText, compareText, compare, reconcileText, reconcile] = await together(
      () => health(3),
      () => runbook(3, ['compare', '--versions', '2,3']),
      () => fifoJson(['compare', '--versions', '2,3', '--json']),
      () => runbook(3, ['reconcile', '--all', '--version', '3']),
      () => fifoJson(['reconcile', '--all', '--version', '3', '--json']),
    );

    // Assess: full completes; health as step 3's Watch says
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toMatch(/drift 0 allocation rows and 0 lot rows/);
    expect(healthText).toMatch(/last full rebuild: +completed/);
    expect(healthText).toMatch(/\(0 pending changes\)/);
    expect(healthText).toMatch(/rejected trades: +0\n/);
    expect(healthText).toMatch(/other FIFO writers: +1 log row by another program in 24 h/);
    expect(healthText).toMatch(/remaining_size mirror: +matches the lots/);
    expect(await mirrorsDiffering()).toBe(0);
    // compare: the bot's figures against fifo-ledger's, differences of rounding only
    expect([compareText.code, reconcileText.code]).toEqual([0, 0]);
    expect(compareText.stdout).toMatch(/total difference \(3 - 2\)/);
    await expectComparisonAddsUp(compare);
    // reconcile: every sell with an inline figure, the total adds up, the worst are stale lots
    const r = reconcile;
    expect(r.from_live).toBe(
      await scalar<number>(
        `SELECT count(*)::int FROM fifo_trade_source s JOIN trade_records t USING (order_id)
         WHERE s.side = 'sell' AND t.pnl_usd IS NOT NULL`,
      ),
    );
    expect(r.total_difference).toBe(
      r.table.reduce((sum: Decimal, row: Json) => sum.plus(row.difference), new Dec(0)).toFixed(),
    );
    const worst = r.offenders[0];
    const { rows: firstSlice } = await db.pool.query(
      `SELECT (SELECT parent_id FROM trade_records WHERE order_id = $1) AS inline_lot,
              (SELECT buy_order_id FROM fifo_allocations WHERE allocation_version = 3 AND sell_order_id = $1
               ORDER BY buy_time LIMIT 1) AS fifo_lot`,
      [worst.sell_order_id],
    );
    expect(firstSlice[0].inline_lot).not.toBe(firstSlice[0].fifo_lot);
    expect(reconcileText.stdout).toMatch(/BIGGEST OFFENDERS[\s\S]*\+?-?\d/);
    // version 2 and the views that read it are untouched; v_allocation_health has version 3 too
    expect(await versionFingerprint(2)).toBe(saved.v2);
    const after = await views();
    expect({ ...after, v_allocation_health: [] }).toEqual({ ...saved.views, v_allocation_health: [] });
    expect(after.v_allocation_health).toEqual([
      ...saved.views!.v_allocation_health!,
      expect.objectContaining({ allocation_version: 3, total_allocations: String(await rowsOf(3)) }),
    ]);
  });

  it("step 3's rollback: version 3, the mirror and the views go back, then step 3 runs again", async () => {
    // Why: every step must be reversible as the runbook writes it, leaving the bot's database as it was.
    // Prepare
    const [, restoreMirror] = sqlBlocks(step(3));
    expect(step(3)).toContain('psql "$DATABASE_URL" -f bot-views.sql');

    // Act
    const dryRun = await runbook(3, ['prune', '--keep', '1', '--active', '2', '--dry-run']);
    const v3Rows = await rowsOf(3);
    const prune = await runbook(3, ['prune', '--keep', '1', '--active', '2']);
    await db.pool.query(restoreMirror!);
    await db.pool.query(saved.botViews!);
    const rolledBack = {
      v3: await rowsOf(3),
      lots: await scalar<number>('SELECT count(*)::int FROM fifo_lots WHERE allocation_version = 3'),
      mirror: await scalar<number>(
        `SELECT count(*)::int FROM backup_remaining_size b JOIN trade_records t USING (order_id)
         WHERE t.remaining_size IS DISTINCT FROM b.remaining_size`,
      ),
      definitions: await viewDefinitions(),
      views: await views(),
      v2: await versionFingerprint(2),
    };
    await db.pool.query(sqlBlocks(step(3))[0]!);
    const again = await runbook(3, ['full', '--version', '3']);

    // Assess
    expect([dryRun.code, prune.code], prune.stderr).toEqual([0, 0]);
    expect(v3Rows).toBeGreaterThan(0);
    expect(rolledBack).toEqual({
      v3: 0,
      lots: 0,
      mirror: 0,
      definitions: saved.definitions,
      views: saved.views,
      v2: saved.v2,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(await rowsOf(3)).toBe(v3Rows);
  });

  it('step 4: the parallel run keeps version 3 fresh while the bot keeps writing; the nightly rebuild proves it', async () => {
    // Why: fifo-ledger lives beside the bot's recorder, cancellations, startup maintenance and FIFO cron for weeks; each must be seen and none may cause drift.
    // Prepare: the bot as in production: new fills (inline PnL on), a late back-filled buy, a
    // corrected sell, a cancelled buy, identical re-reports, and the 5-minute FIFO cron.
    const sells = history.filter(
      (f) => f.side === 'sell' && f.status !== null && !f.order_id.includes('-FILL-'),
    );
    const corrected = {
      ...sells[400]!,
      size: new Dec(sells[400]!.size).div(2).toFixed(8),
      ingest_via: 'rest',
    };
    const cancelled = history.filter((f) => f.side === 'buy' && !f.order_id.includes('-FILL-'))[700]!;
    const late: BotFill = {
      ...history[1500]!,
      order_id: `${history[1500]!.order_id.slice(0, -4)}late`,
      side: 'buy',
      order_time: new Date(Date.parse(history[1500]!.order_time) + 1).toISOString(),
      status: null,
      source: 'reconciled',
      ingest_via: 'rest',
    };
    await bot.record(later.slice(0, 150));
    const pendingBeforeRepeats = await pendingChanges(db.pool);
    await bot.record(history.slice(2000, 2040), { reconcilePass: true });
    const pendingAfterRepeats = await pendingChanges(db.pool);
    await bot.record([late]);
    await bot.record([corrected], { reconcilePass: true });
    await bot.cancel([cancelled.order_id]);
    await bot.fifo([...new Set(later.slice(0, 150).map((f) => f.symbol))]);

    // Act 1: the 5-minute schedule
    const first = await runbook(4, ['incremental', '--version', '3'], ['--json']);

    // Assess 1
    expect(pendingAfterRepeats).toBe(pendingBeforeRepeats);
    expect(first.code, first.stderr).toBe(0);
    const run1 = JSON.parse(first.stdout) as Json;
    expect(run1).toMatchObject({ status: 'completed', version: 3 });
    expect(run1.trades_processed).toBeGreaterThanOrEqual(150);
    expect(run1.symbols_replayed).toBeGreaterThanOrEqual(1);
    expect(await pendingChanges(db.pool)).toBe(0);

    // Act 2: the bot restarts; its startup maintenance re-inflates consumed lots in the mirror
    const rewritten = await bot.restart();
    const differing = await mirrorsDiffering();
    const healthText = await health(4);
    const second = await runbook(4, ['incremental', '--version', '3'], ['--json']);

    // Assess 2: health names exactly those buys, and the next run puts exactly those back
    expect(rewritten).toBeGreaterThan(0);
    expect(differing).toBeGreaterThan(0);
    expect(healthText).toMatch(
      new RegExp(`remaining_size mirror: +${differing} buys? rewritten by another program`),
    );
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'completed', mirrors_restored: differing });
    expect(await mirrorsDiffering()).toBe(0);

    // Act 3: more fills, per-fill rows among them; the bot's nightly FIFO run; then fifo-ledger's
    await bot.record(later.slice(150, 300));
    await bot.fifo();
    saved.v2 = await versionFingerprint(2);
    const nightly = await runbook(4, ['full', '--version', '3'], ['--json']);
    const [proof, health3, compare, day] = await together(
      () => runbookJson(4, ['full', '--version', '3', '--dry-run']),
      () => health(4),
      () => runbookJson(4, ['compare', '--versions', '2,3']),
      () => runbookJson(4, ['reconcile', '--hours', '24', '--version', '3']),
    );

    // Assess 3: no drift, pending changes applied apart, the bot's two log rows counted apart
    expect(nightly.code, nightly.stderr).toBe(0);
    const n = JSON.parse(nightly.stdout) as Json;
    expect(n).toMatchObject({ status: 'completed', drift_rows: 0, drift_usd: '0' });
    expect(n.pending_applied.changes).toBeGreaterThan(0);
    expect(proof).toMatchObject({ dry_run: true, drift_rows: 0, drift_usd: '0' });
    expect(health3).toMatch(/\(0 pending changes\)/);
    expect(health3).toMatch(/last drift: +0 allocation rows, 0\.00 USD/);
    expect(health3).toMatch(/remaining_size mirror: +matches the lots/);
    expect(health3).toMatch(/other FIFO writers: +2 log rows by another program in 24 h/);
    await expectComparisonAddsUp(compare);
    expect(day.table.length).toBeGreaterThan(0);
    expect(day.table.length).toBe(day.from_live);
    const dayStart = Date.now() - 24 * 3_600_000 - 60_000;
    expect(day.table.every((row: Json) => Date.parse(row.sell_time) > dayStart)).toBe(true);
    expect(await versionFingerprint(2)).toBe(saved.v2);
    expect((await views()).v_pnl_by_symbol).toEqual(await pnlBySymbol(2));
  });

  it("step 5: the cut-over: the bot's FIFO cron, inline PnL and startup rewrites go off, the views read version 3", async () => {
    // Why: after the cut-over fifo-ledger alone derives PnL; the bot's readers must see version 3 and nothing may write legacy values any more.
    // Prepare
    const [toVersion3] = sqlBlocks(step(5));
    const [toVersion2] = sqlBlocks(step(3));
    expect(step(5)).toMatch(/run step 3's SQL to put the views back on version 2/);
    const legacyBefore = await legacyValues();

    // Act: the bot's switches, the views, then the bot keeps recording and restarting
    bot.inlinePnl = false;
    bot.fifoCron = false;
    bot.maintenanceRewrites = false;
    await db.pool.query(toVersion3!);
    const fresh = later.slice(300);
    await bot.record(fresh);
    await bot.restart();
    await bot.fifo();
    const run = await fifoJson(['incremental', '--version', '3', '--json']);
    const newSell = await scalar(
      `SELECT sell_order_id FROM fifo_allocations
       WHERE allocation_version = 3 AND buy_order_id IS NOT NULL AND sell_order_id = ANY ($1)
       ORDER BY sell_time DESC LIMIT 1`,
      [fresh.map((f) => f.order_id)],
    );
    const [explain, healthText] = await together(
      () => fifo(['explain', newSell, '--version', '3']),
      () => health(5),
    );
    const viewsOn3 = await views();
    await db.pool.query(toVersion2!);
    const viewsRolledBack = await views();
    await db.pool.query(toVersion3!);

    // Assess: new sells are in version 3; no new legacy value; the views answer from version 3
    expect(run.trades_processed).toBeGreaterThan(0);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/from lot /);
    expect(await legacyValues()).toBe(legacyBefore);
    // The bot's nightly log rows stay counted until they are a day old.
    expect(healthText).toMatch(/remaining_size mirror: +matches the lots/);
    expect(healthText).toMatch(/\(0 pending changes\)/);
    expect(healthText).toMatch(/other FIFO writers: +2 log rows by another program in 24 h/);
    expect(await versionFingerprint(2)).toBe(saved.v2);
    expect(viewsOn3.v_pnl_by_symbol).toEqual(await pnlBySymbol(3));
    expect(viewsOn3.v_unmatched_sells!.length).toBe(
      await scalar<number>(
        'SELECT count(*)::int FROM fifo_allocations WHERE allocation_version = 3 AND buy_order_id IS NULL',
      ),
    );
    expect(viewsOn3.v_unmatched_sells!.every((r) => r.allocation_version === 3)).toBe(true);
    expect(viewsOn3.v_allocation_discrepancies).toEqual([]);
    expect(viewsOn3.v_allocation_health!.map((r) => r.allocation_version)).toEqual([2, 3]);
    // The rollback puts them on version 2 again
    expect(viewsRolledBack.v_pnl_by_symbol).toEqual(await pnlBySymbol(2));
    saved.v3 = await versionFingerprint(3);
  });

  it('step 6: legacy archive moves every legacy value, reconcile reads the archive, restore puts them back', async () => {
    // Why: the evidence of the inline code's errors must survive the columns going NULL, bit for bit, and the archive must be undoable.
    // Prepare
    const viewsBefore = await views();
    const legacyBefore = await withClient(db.pool, (c) => legacyBytes(c));
    const changesBefore = await pendingChanges(db.pool);
    const commands = fifoCommands(step(6));
    expect(commands).toEqual([
      ['reconcile', '--all', '--version', '3', '--json'],
      ['legacy', 'archive'],
      ['legacy', 'archive'],
      ['reconcile', '--all', '--version', '3'],
    ]);

    // Act
    const [before, check] = await together(
      () => fifoJson(commands[0]!),
      () => fifoJson(['adopt', '--check', '--json']),
    );
    const archived = await fifoJson([...commands[1]!, '--json']);
    const again = await fifo(commands[2]!);
    const [afterText, after] = await together(
      () => fifo(commands[3]!),
      () => fifoJson([...commands[3]!, '--json']),
    );
    const archivedViews = await views();
    const restored = await fifoJson(['legacy', 'restore', '--json']);
    const legacyRestored = await withClient(db.pool, (c) => legacyBytes(c));
    const reArchived = await fifoJson(['legacy', 'archive', '--json']);

    // Assess: every value moved, none conflicting; a second run finds nothing
    expect(archived).toMatchObject({ conflicts: 0, cleared_rows: check.legacy.trades_with_values });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing left to archive/);
    expect(
      await scalar<number>(
        `SELECT count(*)::int FROM trade_records WHERE num_nonnulls(pnl_usd, realized_profit, cost_basis_usd,
           sale_proceeds_usd, net_sale_proceeds_usd, parent_id) > 0`,
      ),
    ).toBe(0);
    // reconcile: the same figures, now from the archive
    expect(afterText.code).toBe(0);
    const a = after;
    const b = before;
    expect({ from_live: a.from_live, from_archive: a.from_archive }).toEqual({
      from_live: 0,
      from_archive: b.from_live,
    });
    expect(a.total_difference).toBe(b.total_difference);
    expect(a.table).toEqual(b.table.map((row: Json) => ({ ...row, source: 'archive' })));
    // the views answer as before; archiving captured no trade change
    expect(archivedViews).toEqual(viewsBefore);
    expect(await pendingChanges(db.pool)).toBe(changesBefore);
    // the rollback: every value back bit for bit; a later archive clears them again
    expect(restored).toMatchObject({ restored_rows: archived.cleared_rows, conflicts: 0, orphans: 0 });
    expect(legacyRestored).toEqual(legacyBefore);
    expect(reArchived).toMatchObject({ cleared_rows: archived.cleared_rows, conflicts: 0 });
  });

  it("step 7: prune deletes the bot's version 2 only; version 3 is whole and proves itself", async () => {
    // Why: pruning is the one step without an undo but the snapshot; it must take exactly version 2.
    // Prepare
    const v2Rows = await rowsOf(2);
    const logRows = await scalar<number>('SELECT count(*)::int FROM fifo_computation_log');

    // Act
    const dryRun = await runbook(7, ['prune', '--keep', '1', '--active', '3', '--dry-run'], ['--json']);
    const afterDryRun = await rowsOf(2);
    const prune = await runbook(7, ['prune', '--keep', '1', '--active', '3']);
    const [proof, check] = await together(
      () => fifoJson(['full', '--version', '3', '--dry-run', '--json']),
      () => fifoJson(['adopt', '--check', '--json']),
    );

    // Assess
    expect(dryRun.code, dryRun.stderr).toBe(0);
    const plan = JSON.parse(dryRun.stdout) as Json;
    expect(plan.deleted).toEqual([expect.objectContaining({ version: 2, allocations: v2Rows })]);
    expect(plan.warnings).toEqual([]);
    expect(afterDryRun).toBe(v2Rows);
    expect(prune.code, prune.stderr).toBe(0);
    expect(await rowsOf(2)).toBe(0);
    expect(await versionFingerprint(3)).toBe(saved.v3);
    expect(await scalar<number>('SELECT count(*)::int FROM fifo_computation_log')).toBe(logRows);
    expect(proof).toMatchObject({ drift_rows: 0, drift_usd: '0' });
    expect(check.versions.map((v: Json) => v.version)).toEqual([3]);
    const final = await views();
    expect(final.v_allocation_health!.map((r) => r.allocation_version)).toEqual([3]);
    expect(final.v_pnl_by_symbol).toEqual(await pnlBySymbol(3));
  });

  it('refuses unsafe or incomplete commands with a message and exit 1', async () => {
    // Why: the operator types these on a production database; mistakes must stop before any work.
    // Prepare: the database above

    // Act
    const [adopt, prune, compare, reconcile] = await together(
      // `adopt` alone is the check now: an unknown action is the mistake.
      () => fifo(['adopt', 'now']),
      () => fifo(['prune', '--keep', '1']),
      () => fifo(['compare', '--versions', '3']),
      () => fifo(['reconcile', '--all', '--hours', '2']),
    );

    // Assess
    expect([adopt.code, prune.code, compare.code, reconcile.code]).toEqual([1, 1, 1, 1]);
    expect(adopt.stderr).toMatch(/adopt takes "check" or nothing, got "now"/);
    expect(prune.stderr).toMatch(
      /prune needs the active version: pass --active N or set FIFO_ALLOCATION_VERSION/,
    );
    expect(compare.stderr).toMatch(/--versions takes two versions/);
    expect(reconcile.stderr).toMatch(/give --hours or --all, not both/);
  });
});
