/**
 * Issue 8's "Done when": the bot's live database adopted step by step through the real CLI
 * (child processes with DATABASE_URL), as docs/migration.md runs it: adopt --check, migrate,
 * full --version 3, compare, legacy archive, reconcile, legacy restore. Every view still
 * answers and no value is lost.
 */
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRecentBotTrades, createBotSchema } from '../support/bot-schema.ts';
import type { TestDatabase } from '../support/database.ts';
import {
  catalogFingerprint,
  cliJson,
  createSharedDatabase,
  dataFingerprint,
  legacyBytes,
  pendingChanges,
  runCli,
  VIEWS,
  withClient,
} from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createSharedDatabase();
  await createBotSchema(db.pool);
  await addRecentBotTrades(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

/** Every view answers; returns their rows. */
async function views() {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const view of VIEWS) out[view] = (await db.pool.query(`SELECT * FROM ${view} ORDER BY 1`)).rows;
  return out;
}

/** A parsed --json result; the assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: parsed CLI output, checked field by field below
type Json = Record<string, any>;

describe('adopting the bot database through the CLI', () => {
  it('adopt --check, migrate, full --version 3, compare, legacy archive, reconcile, legacy restore', async () => {
    // Why: this is the runbook on a bot-like database; it must work end to end and lose nothing.
    // Prepare
    const catalogBefore = await catalogFingerprint(db.pool);
    const dataBefore = await dataFingerprint(db.pool);
    const legacyBefore = await withClient(db.pool, (c) => legacyBytes(c));
    const viewsBefore = await views();

    // Act 1: the read-only check
    const check = await cliJson<Json>(db.url, ['adopt', '--check', '--json']);

    // Assess 1: it reports the bot's state and changes nothing
    expect(check.ok).toBe(true);
    expect(check.upToDate).toBe(false);
    expect(check.migrations.tableExists).toBe(false);
    expect(check.foreignKeys.map((fk: Json) => fk.onDelete)).toEqual(['CASCADE', 'CASCADE']);
    expect(check.versions).toEqual([expect.objectContaining({ version: 2, allocations: 2, sells: 2 })]);
    expect(check.columns.find((c: Json) => c.table === 'trade_records').deprecatedPresent).toContain(
      'pnl_usd',
    );
    expect(await catalogFingerprint(db.pool)).toBe(catalogBefore);
    expect(await dataFingerprint(db.pool)).toEqual(dataBefore);

    // Act 2: migrate, and check again
    const migrated = await runCli(db.url, ['migrate']);
    const checkAfter = await cliJson<Json>(db.url, ['adopt', '--check', '--json']);

    // Assess 2
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/^applied: 0001_trade-records, 0002_fifo-tables, 0003_change-capture/);
    expect(checkAfter).toMatchObject({ ok: true, upToDate: true, changes: [], foreignKeys: [] });
    expect(await views()).toEqual(viewsBefore);

    // Act 3: the parallel run: build version 3 beside the bot's version 2, compare them
    const full = await cliJson<Json>(db.url, ['full', '--version', '3', '--json']);
    const compare = await cliJson<Json>(db.url, ['compare', '--versions', '2,3', '--json']);

    // Assess 3: version 2 is untouched; version 3 corrects the stale-lot sell and has the new sell
    expect(full).toMatchObject({ status: 'completed', version: 3 });
    const { rows: sums } = await db.pool.query(
      `SELECT allocation_version AS v, trim_scale(sum(pnl_usd))::text AS pnl FROM fifo_allocations GROUP BY 1 ORDER BY 1`,
    );
    expect(sums).toEqual([
      { v: 2, pnl: '-10.9368' },
      { v: 3, pnl: compare.b.realizedPnl },
    ]);
    expect(compare.a.realizedPnl).toBe('-10.9368');
    expect(compare.totalDifference).toBe(new Decimal(compare.b.realizedPnl).minus('-10.9368').toString());
    expect(compare.sells).toMatchObject({ inBoth: 2, pnlDiffers: 2, onlyInA: 0, onlyInB: 1 });
    expect(compare.differences.map((d: Json) => d.sellOrderId)).toContain('recent-sell');
    const viewsAfterFull = await views();
    expect({ ...viewsAfterFull, v_allocation_health: [] }).toEqual({
      ...viewsBefore,
      v_allocation_health: [],
    });
    expect(viewsAfterFull.v_allocation_health).toEqual([
      ...viewsBefore.v_allocation_health!,
      { allocation_version: 3, allocations: '4', unmatched: '0' },
    ]);
    const legacyAfterFull = await withClient(db.pool, (c) => legacyBytes(c));
    expect(legacyAfterFull).toEqual(legacyBefore);
    const changesBeforeArchive = await pendingChanges(db.pool);

    // Act 4: archive the legacy columns, twice
    const archived = await cliJson<Json>(db.url, ['legacy', 'archive', '--json']);
    const archivedAgain = await cliJson<Json>(db.url, ['legacy', 'archive', '--json']);

    // Assess 4: the values moved, the live columns are NULL, the views still answer
    expect(archived).toMatchObject({ clearedRows: 4, archivedRows: 4, conflicts: 0 });
    expect(archivedAgain).toMatchObject({ clearedRows: 0, archivedRows: 0, archiveRows: 4 });
    const cleared = await withClient(db.pool, (c) => legacyBytes(c));
    expect(cleared.every((r) => r.pnl_usd_bytes === null && r.parent_id === null)).toBe(true);
    const archivedViews = await views();
    expect(archivedViews.v_allocation_discrepancies!.every((r) => r.legacy_pnl === null)).toBe(true);
    expect({ ...archivedViews, v_allocation_discrepancies: [] }).toEqual({
      ...viewsAfterFull,
      v_allocation_discrepancies: [],
    });

    // Act 5: reconcile, all time and the last 24 h, from the archive
    const all = await cliJson<Json>(db.url, ['reconcile', '--all', '--version', '3', '--json']);
    const day = await cliJson<Json>(db.url, ['reconcile', '--hours', '24', '--version', '3', '--json']);
    const text = await runCli(db.url, ['reconcile', '--all', '--version', '3']);

    // Assess 5: per-sell differences are exact and add up to the total
    expect(all).toMatchObject({ fromLive: 0, fromArchive: 3, withoutLegacy: 0, differing: 3 });
    for (const row of all.table) {
      expect(row.difference).toBe(new Decimal(row.fifoPnl).minus(row.legacyPnl).toString());
    }
    expect(all.totalDifference).toBe(
      all.table.reduce((sum: Decimal, r: Json) => sum.plus(r.difference), new Decimal(0)).toString(),
    );
    expect(all.offenders.map((r: Json) => r.sellOrderId)).toEqual(['nov-sell', 'recent-sell', 'oct-sell']);
    expect(all.table.find((r: Json) => r.sellOrderId === 'nov-sell').legacyPnl).toBe('-16.45');
    expect(day.table).toEqual([
      expect.objectContaining({
        sellOrderId: 'recent-sell',
        legacyPnl: '0.30000000000000004',
        fifoPnl: '10',
        difference: '9.69999999999999996',
        source: 'archive',
      }),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('DISCREPANCY TABLE');
    expect(text.stdout).toMatch(/BIGGEST OFFENDERS[\s\S]*nov-sell/);

    // Act 6: restore
    const restored = await cliJson<Json>(db.url, ['legacy', 'restore', '--json']);

    // Assess 6: every legacy value is back bit for bit, no change was captured, every view answers
    expect(restored).toMatchObject({ restoredRows: 4, conflicts: 0, orphans: 0 });
    expect(await withClient(db.pool, (c) => legacyBytes(c))).toEqual(legacyBefore);
    expect(await pendingChanges(db.pool)).toBe(changesBeforeArchive);
    expect(await views()).toEqual(viewsAfterFull);

    // Act 7: what pruning the bot's version would do (dry run)
    const prune = await cliJson<Json>(db.url, [
      'prune',
      '--keep',
      '1',
      '--active',
      '3',
      '--dry-run',
      '--json',
    ]);

    // Assess 7: version 2 would go, and the views that read it are named
    expect(prune.deleted.map((v: Json) => v.version)).toEqual([2]);
    expect(prune.warnings[0]).toMatch(
      /v_allocation_discrepancies, v_pnl_by_symbol, v_unmatched_sells read version 2/,
    );
    expect(
      (await db.pool.query('SELECT count(*)::int AS n FROM fifo_allocations WHERE allocation_version = 2'))
        .rows[0].n,
    ).toBe(2);
  }, 300_000);

  it('refuses unsafe or incomplete commands with a message and exit 1', async () => {
    // Why: the operator types these on a production database; mistakes must stop before any work.
    // Prepare: the database above

    // Act
    const adopt = await runCli(db.url, ['adopt']);
    const prune = await runCli(db.url, ['prune', '--keep', '1']);
    const compare = await runCli(db.url, ['compare', '--versions', '3']);
    const reconcile = await runCli(db.url, ['reconcile', '--all', '--hours', '2']);

    // Assess
    expect([adopt.code, prune.code, compare.code, reconcile.code]).toEqual([1, 1, 1, 1]);
    expect(adopt.stderr).toMatch(/required option '--check'/);
    expect(prune.stderr).toMatch(
      /prune needs the active version: pass --active N or set FIFO_ALLOCATION_VERSION/,
    );
    expect(compare.stderr).toMatch(/--versions takes two versions/);
    expect(reconcile.stderr).toMatch(/give --hours or --all, not both/);
  }, 120_000);
});
