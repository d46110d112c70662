/** `fifo adopt --check`: what migrate would do, read from the catalog, changing nothing. */
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../shared/db/migrate.ts';
import { type AdoptionCheck, checkAdoption, migrationFiles } from '../../shared/legacy/adopt-check.ts';
import {
  EXPECTED_FUNCTIONS,
  EXPECTED_INDEXES,
  EXPECTED_TABLES,
  EXPECTED_TRIGGERS,
  MIGRATION_EFFECTS,
} from '../../shared/legacy/expected-schema.ts';
import { createBotSchema } from '../support/bot-schema.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';
import { catalogFingerprint, dataFingerprint, withClient } from './support.ts';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

async function botDatabase(alter?: string): Promise<TestDatabase> {
  db = await createEmptyDatabase();
  await createBotSchema(db.pool);
  if (alter) await db.pool.query(alter);
  return db;
}

const check = (d: TestDatabase) => withClient(d.pool, (c) => checkAdoption(c));
const migrateIt = (d: TestDatabase) => withClient(d.pool, (c) => migrate(c));
const changeNames = (c: AdoptionCheck, action?: string) =>
  c.changes.filter((x) => action === undefined || x.action === action).map((x) => `${x.kind} ${x.name}`);
const blockers = (c: AdoptionCheck) => c.problems.filter((p) => p.severity === 'blocker');

describe('adopt --check on the bot database', () => {
  it('lists the changes, the cascading keys and their replacement, version 2 and the legacy columns', async () => {
    // Why: the operator must see what migrate will do to the live database before running it.
    // Prepare
    const d = await botDatabase();

    // Act
    const result = await check(d);

    // Assess
    expect(result.migrations).toMatchObject({ tableExists: false, applied: [], pending: migrationFiles() });
    expect(result.upToDate).toBe(false);
    expect(blockers(result)).toEqual([]);
    expect(changeNames(result, 'create')).toEqual(
      expect.arrayContaining([
        'table fifo_lots',
        'table fifo_symbol_progress',
        'table fifo_versions',
        'table fifo_rejected_trades',
        'table fifo_trade_changes',
        'table fifo_legacy_pnl_archive',
        'index fifo_allocations_version_symbol_sell_idx',
        'view fifo_trade_source',
        'function fifo_capture_trade_changes()',
        'function fifo_capture_trade_update()',
        'trigger trade_records.fifo_capture_insert',
        'trigger trade_records.fifo_capture_update',
        'trigger trade_records.fifo_capture_delete',
      ]),
    );
    // The bot's own tables are kept: never created, and its indexes are recognised.
    expect(changeNames(result, 'create')).not.toContain('table fifo_allocations');
    expect(changeNames(result, 'create')).not.toContain('table trade_records');
    expect(changeNames(result)).not.toContain('index trade_records_symbol_order_time_idx');
    expect(changeNames(result)).not.toContain('index fifo_allocations_sell_buy_version_key');
    expect(changeNames(result, 'add')).toEqual(
      expect.arrayContaining([
        'column fifo_computation_log.drift_usd',
        'column fifo_computation_log.dry_run',
      ]),
    );
    expect(changeNames(result, 'replace')).toContain(
      'constraint fifo_computation_log.fifo_computation_log_status_check',
    );
    expect(result.foreignKeys.map((fk) => [fk.columns, fk.references, fk.onDelete])).toEqual([
      [['buy_order_id'], 'trade_records(order_id)', 'CASCADE'],
      [['sell_order_id'], 'trade_records(order_id)', 'CASCADE'],
    ]);
    expect(result.foreignKeys[0]!.replacement).toMatch(
      /change capture.*fifo_capture_delete.*incremental run/,
    );
    expect(changeNames(result, 'drop')).toEqual(
      result.foreignKeys.map((fk) => `foreign key fifo_allocations.${fk.name}`),
    );
    expect(result.versions).toEqual([
      expect.objectContaining({ version: 2, allocations: 2, sells: 2, registered: false, lots: 0 }),
    ]);
    expect(result.columns.find((c) => c.table === 'trade_records')).toMatchObject({
      addedByMigrate: [],
      missingRequired: [],
      deprecatedAbsent: [],
      deprecatedPresent: expect.arrayContaining(['pnl_usd', 'realized_profit', 'parent_id']),
    });
    expect(result.dependentViews.map((v) => v.view)).toEqual([
      'v_allocation_discrepancies',
      'v_allocation_health',
      'v_pnl_by_symbol',
      'v_unmatched_sells',
    ]);
    expect(result.dependentViews[0]!.legacyColumns).toEqual(['pnl_usd']);
    expect(result.legacy).toMatchObject({ tradesWithValues: 2, archiveExists: false });
  });

  it('changes nothing: the catalog and every row are the same before and after', async () => {
    // Why: "--check" runs against the live database; it must be safe to run at any time.
    // Prepare
    const d = await botDatabase();
    const catalogBefore = await catalogFingerprint(d.pool);
    const dataBefore = await dataFingerprint(d.pool);

    // Act
    await check(d);
    await check(d);

    // Assess
    expect(await catalogFingerprint(d.pool)).toBe(catalogBefore);
    expect(await dataFingerprint(d.pool)).toEqual(dataBefore);
    // The fingerprints do see changes: migrate alters both.
    await migrateIt(d);
    expect(await catalogFingerprint(d.pool)).not.toBe(catalogBefore);
    expect((await dataFingerprint(d.pool)).fifo_computation_log).not.toBe(dataBefore.fifo_computation_log);
  });

  it('names the missing columns: deprecated ones gone, needed ones migrate adds, needed ones it cannot add', async () => {
    // Why: the deprecated columns may have been dropped and older bots lack some columns; the check says which.
    // Prepare
    const d = await botDatabase(
      `ALTER TABLE trade_records DROP COLUMN pnl_usd CASCADE, DROP COLUMN realized_profit, DROP COLUMN status,
         DROP COLUMN total_fees_usd;
       ALTER TABLE fifo_allocations DROP COLUMN notes CASCADE, DROP COLUMN symbol CASCADE`,
    );

    // Act
    const result = await check(d);

    // Assess
    expect(result.columns.find((c) => c.table === 'trade_records')).toMatchObject({
      addedByMigrate: ['total_fees_usd', 'status'],
      missingRequired: [],
      deprecatedAbsent: ['pnl_usd', 'realized_profit'],
    });
    expect(result.columns.find((c) => c.table === 'fifo_allocations')).toMatchObject({
      addedByMigrate: ['notes'],
      missingRequired: ['symbol'],
    });
    expect(changeNames(result, 'add')).toEqual(
      expect.arrayContaining(['column trade_records.total_fees_usd', 'column trade_records.status']),
    );
    expect(blockers(result).map((b) => b.message)).toEqual([
      expect.stringMatching(/^fifo_allocations\.symbol .*missing/),
    ]);
    expect(result.legacy.columns.filter((c) => !c.present).map((c) => c.column)).toEqual([
      'realized_profit',
      'pnl_usd',
    ]);
  });

  it('finds what would make migrate fail: a log status the new check refuses, duplicate allocation keys', async () => {
    // Why: a migration that fails half-way on the live database is worse than one that never starts.
    // Prepare
    const d = await botDatabase(
      `ALTER TABLE fifo_computation_log DROP CONSTRAINT fifo_computation_log_status_check;
       INSERT INTO fifo_computation_log (allocation_version, status) VALUES (2, 'cancelled');
       DROP INDEX uq_fifo_alloc_sell_buy_version;
       INSERT INTO fifo_allocations (sell_order_id, buy_order_id, symbol, allocated_size, sell_price,
         sell_fees_per_unit, proceeds_usd, net_proceeds_usd, sell_time, allocation_version)
       SELECT sell_order_id, buy_order_id, symbol, allocated_size, sell_price, sell_fees_per_unit, proceeds_usd,
              net_proceeds_usd, sell_time, allocation_version FROM fifo_allocations WHERE sell_order_id = 'oct-sell'`,
    );

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result).map((b) => b.message)).toEqual([
      expect.stringMatching(/status the new check refuses \(cancelled: 1\)/),
      expect.stringMatching(/1 duplicate \(sell, lot, version\) keys/),
    ]);
    expect(changeNames(result, 'add')).toContain(
      'constraint fifo_computation_log.fifo_computation_log_status_check',
    );
    expect(changeNames(result, 'create')).toContain('index fifo_allocations_sell_buy_version_key');
  });

  it('after migrate has nothing left to do: no change, no key, no problem', async () => {
    // Why: the check must agree with migrate itself, or operators learn to ignore it.
    // Prepare
    const d = await botDatabase();
    await migrateIt(d);

    // Act
    const result = await check(d);

    // Assess
    expect(result.upToDate).toBe(true);
    expect(result.changes).toEqual([]);
    expect(result.problems).toEqual([]);
    expect(result.foreignKeys).toEqual([]);
    expect(result.migrations.applied.map((m) => m.name)).toEqual(migrationFiles());
    expect(result.legacy.archiveExists).toBe(true);
  });
});

describe('the expected-object list', () => {
  it('matches what migrate builds on an empty database, and describes every migration file', async () => {
    // Why: adopt --check is only as good as its list; a migration that adds an object must add it there too.
    // Prepare
    db = await createEmptyDatabase();
    const empty = await check(db);
    await migrateIt(db);

    // Act
    const after = await check(db);
    const { rows: tables } = await db.pool.query<{ name: string }>(
      `SELECT relname::text AS name FROM pg_class
       WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname <> 'fifo_ledger_migrations'
       ORDER BY 1`,
    );
    const columns: Record<string, string[]> = {};
    for (const { name } of tables) {
      const { rows } = await db.pool.query<{ c: string; t: string }>(
        `SELECT attname::text AS c, format_type(atttypid, atttypmod) AS t FROM pg_attribute
         WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [name],
      );
      columns[name] = rows.map((r) => `${r.c} ${r.t}`);
    }
    const { rows: indexes } = await db.pool.query<{ name: string }>(
      `SELECT c.relname::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE c.relnamespace = 'public'::regnamespace
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
       ORDER BY 1`,
    );
    const { rows: triggers } = await db.pool.query<{ name: string }>(
      `SELECT tgname::text AS name FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`,
    );
    const { rows: functions } = await db.pool.query<{ name: string }>(
      `SELECT oid::regprocedure::text AS name FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1`,
    );

    // Assess
    expect(empty.changes.filter((c) => c.kind === 'table').map((c) => c.name)).toEqual(
      EXPECTED_TABLES.map((t) => t.name),
    );
    expect(blockers(empty)).toEqual([]);
    expect(after.upToDate).toBe(true);
    expect(after.problems).toEqual([]);
    expect(tables.map((t) => t.name)).toEqual(EXPECTED_TABLES.map((t) => t.name).sort());
    for (const table of EXPECTED_TABLES) {
      expect(columns[table.name], table.name).toEqual(table.columns.map((c) => `${c.name} ${c.type}`));
    }
    expect(indexes.map((i) => i.name)).toEqual(EXPECTED_INDEXES.map((i) => i.name).sort());
    expect(triggers.map((t) => t.name)).toEqual(EXPECTED_TRIGGERS.map((t) => t.name).sort());
    expect(functions.map((f) => f.name)).toEqual(EXPECTED_FUNCTIONS.map((f) => f.signature).sort());
    const described = new Set([
      ...EXPECTED_TABLES.map((t) => t.migration),
      ...EXPECTED_INDEXES.map((i) => i.migration),
      ...EXPECTED_FUNCTIONS.map((f) => f.migration),
      ...Object.keys(MIGRATION_EFFECTS),
    ]);
    expect(migrationFiles().filter((f) => !described.has(f))).toEqual([]);
  });
});
