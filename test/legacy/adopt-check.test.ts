/**
 * `fifo adopt --check`: what migrate would do, and what would break, read
 * from the catalog in a read-only transaction. Every shape here is the bot's production DDL
 * (test/support/bot-schema.ts), ALTERed where a test needs another.
 */
import type pg from 'pg';
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
import { type BotVariant, createBotSchema } from '../support/bot-schema.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';
import { catalogFingerprint, createSharedDatabase, dataFingerprint, runCli, withClient } from './support.ts';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

/** The bot's production database, then `alter` (SQL) applied to it. */
async function botDatabase(alter?: string, variant: BotVariant = 'production'): Promise<TestDatabase> {
  db = await createEmptyDatabase();
  await createBotSchema(db.pool, { variant });
  if (alter) await db.pool.query(alter);
  return db;
}

const check = (d: TestDatabase) => withClient(d.pool, (c) => checkAdoption(c));
const migrateIt = (d: TestDatabase) => withClient(d.pool, (c) => migrate(c));
const changeNames = (c: AdoptionCheck, action?: string) =>
  c.changes.filter((x) => action === undefined || x.action === action).map((x) => `${x.kind} ${x.name}`);
const blockers = (c: AdoptionCheck) =>
  c.problems.filter((p) => p.severity === 'blocker').map((p) => p.message);
const warnings = (c: AdoptionCheck) =>
  c.problems.filter((p) => p.severity === 'warning').map((p) => p.message);
const findings = (c: AdoptionCheck, table: string, severity: string) =>
  c.findings.filter((f) => f.table === table && f.severity === severity);
const findingColumns = (c: AdoptionCheck, table: string, severity: string, code: string) =>
  findings(c, table, severity)
    .filter((f) => f.code === code)
    .map((f) => f.column);

describe('adopt --check on the bot database (bot-schema.sql)', () => {
  it('passes: no blocker; lists the changes, the cascading keys and their replacement, version 2 and the legacy columns', async () => {
    // Prepare
    const d = await botDatabase();

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result)).toEqual([]);
    expect(warnings(result)).toEqual([]);
    expect(result.migrations).toMatchObject({ tableExists: false, applied: [], pending: migrationFiles() });
    expect(result.upToDate).toBe(false);
    expect(changeNames(result, 'create')).toEqual(
      expect.arrayContaining([
        'table fifo_lots',
        'table fifo_symbol_progress',
        'table fifo_versions',
        'table fifo_rejected_trades',
        'table fifo_trade_changes',
        'table fifo_legacy_pnl_archive',
        'table fifo_mirror_writes',
        'index fifo_allocations_version_symbol_sell_idx',
        'index fifo_computation_log_ledger_runs_idx',
        'view fifo_trade_source',
        'function fifo_capture_trade_delete()',
        'function fifo_capture_trade_update()',
        'function fifo_note_mirror_write()',
        'trigger trade_records.fifo_capture_insert',
        'trigger trade_records.fifo_capture_update',
        'trigger trade_records.fifo_capture_delete',
        'trigger trade_records.fifo_note_mirror_write',
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
        'column fifo_computation_log.fifo_ledger_run',
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
    expect(changeNames(result, 'drop')).toEqual([
      ...result.foreignKeys.map((fk) => `foreign key fifo_allocations.${fk.name}`),
      'constraint fifo_allocations.fifo_allocations_net_proceeds_usd_check',
      'function fifo_capture_trade_changes()',
    ]);
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
    expect(result.dependentViews.find((v) => v.view === 'v_allocation_discrepancies')!.reads).toEqual(
      expect.arrayContaining(['trade_records.size', 'fifo_allocations.allocated_size']),
    );
    expect(result.legacy).toMatchObject({ tradesWithValues: 2, archiveExists: false });
  });

  it('notes what fifo-ledger sets or needs and says what migrate adapts to, per table and column', async () => {
    // Why: the bot's NOT NULL log columns and its net-proceeds check broke writers before; the check must name them.
    // Prepare
    const d = await botDatabase();

    // Act
    const result = await check(d);

    // Assess
    expect(findingColumns(result, 'fifo_computation_log', 'fine', 'not-null')).toEqual([
      'allocation_version',
      'allocation_batch_id',
      'computation_start',
      'status',
    ]);
    expect(findings(result, 'fifo_computation_log', 'fine').map((f) => f.message)).toEqual(
      expect.arrayContaining([
        'fifo_computation_log.symbols_processed is character varying[], not integer as migrate creates it: fifo-ledger writes the list of symbols',
        "fifo_computation_log.error_traceback (text) is not fifo-ledger's: its rows leave it NULL",
      ]),
    );
    expect(findingColumns(result, 'fifo_computation_log', 'adapts', 'missing-column')).toEqual(
      expect.arrayContaining(['drift_usd', 'fifo_ledger_run']),
    );
    expect(findings(result, 'fifo_computation_log', 'adapts').map((f) => f.message)).toContainEqual(
      expect.stringMatching(
        /status_check\): migrate \(0002_fifo-tables\) replaces it with CHECK \(status IN \(.*skipped\)\)/,
      ),
    );
    expect(findingColumns(result, 'fifo_allocations', 'fine', 'not-null')).toEqual(
      expect.arrayContaining(['sell_order_id', 'sell_time', 'allocation_version']),
    );
    expect(findings(result, 'fifo_allocations', 'adapts').map((f) => f.message)).toEqual([
      'fifo_allocations: CHECK ((net_proceeds_usd >= (0)::numeric)) (fifo_allocations_net_proceeds_usd_check): migrate (0008_bot-coexistence) drops it: net proceeds are negative when the fee exceeds the gross proceeds (FIFO rule 3)',
    ]);
    expect(
      findings(result, 'fifo_allocations', 'fine')
        .filter((f) => f.code === 'check')
        .map((f) => f.object),
    ).toEqual([
      'fifo_allocations_allocated_size_check',
      'fifo_allocations_check',
      'fifo_allocations_check1',
      'fifo_allocations_cost_basis_usd_check',
      'fifo_allocations_proceeds_usd_check',
    ]);
    expect(findings(result, 'fifo_allocations', 'fine').map((f) => f.message)).toContainEqual(
      expect.stringMatching(
        /the unique key \(sell_order_id, COALESCE\(buy_order_id, .*\), allocation_version\) fifo-ledger needs is there as idx_fifo_allocations_unique: migrate creates none/,
      ),
    );
    expect(findings(result, 'fifo_mirror_writes', 'adapts').map((f) => f.message)).toEqual([
      'fifo_mirror_writes is missing: migrate (0008_bot-coexistence) creates it',
    ]);
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
    expect(result.findings.filter((f) => f.severity === 'adapts')).toEqual([]);
    expect(result.migrations.applied.map((m) => m.name)).toEqual(migrationFiles());
    expect(result.legacy.archiveExists).toBe(true);
  });
});

describe('adopt --check finds what would break', () => {
  it('a column type fifo-ledger cannot write is a blocker naming table.column, its type and what is needed', async () => {
    // Why: an integer size, a date sell time or a jsonb symbol list fail (or silently lose data) at the first run.
    // Prepare
    const d = await botDatabase(
      `ALTER TABLE fifo_allocations ALTER COLUMN allocated_size TYPE integer, ALTER COLUMN sell_time TYPE date;
       ALTER TABLE fifo_computation_log ALTER COLUMN symbols_processed TYPE jsonb USING to_jsonb(symbols_processed)`,
      'viewsMissing',
    );

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result)).toEqual([
      expect.stringMatching(
        /^fifo_allocations\.allocated_size is integer: it holds no fractions.*; needed: numeric \(unconstrained, or a scale of at least 30\)\. migrate never changes a column's type: alter it$/,
      ),
      expect.stringMatching(
        /^fifo_allocations\.sell_time is date: a date drops the time of day.*; needed: timestamp with time zone\./,
      ),
      expect.stringMatching(
        /^fifo_computation_log\.symbols_processed is jsonb: .*; needed: character varying\[\] or text\[\] \(the list of symbols\), a number type/,
      ),
    ]);
    expect(result.problems.filter((p) => p.severity === 'blocker').map((p) => [p.table, p.column])).toEqual([
      ['fifo_allocations', 'allocated_size'],
      ['fifo_allocations', 'sell_time'],
      ['fifo_computation_log', 'symbols_processed'],
    ]);
  });

  it('a NOT NULL column without a default that fifo-ledger does not write blocks, and so does NOT NULL where it writes NULL', async () => {
    // Why: a bot adding `foo int NOT NULL` makes every insert of fifo-ledger fail; unmatched rows have no buy.
    // Prepare
    const d = await botDatabase(
      `ALTER TABLE fifo_allocations ADD COLUMN foo int NOT NULL DEFAULT 0, ALTER COLUMN buy_order_id SET NOT NULL;
       ALTER TABLE fifo_allocations ALTER COLUMN foo DROP DEFAULT;
       ALTER TABLE fifo_computation_log ADD COLUMN foo int NOT NULL DEFAULT 0, ADD COLUMN bar int NOT NULL DEFAULT 0;
       ALTER TABLE fifo_computation_log ALTER COLUMN foo DROP DEFAULT`,
    );

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result)).toEqual([
      expect.stringMatching(
        /^fifo_allocations\.buy_order_id is NOT NULL, and fifo-ledger writes NULL there on the unmatched row .*: drop NOT NULL/,
      ),
      'fifo_allocations.foo (integer) is NOT NULL without a default and is not a column fifo-ledger writes: its inserts would fail; give it a default or drop NOT NULL',
      'fifo_computation_log.foo (integer) is NOT NULL without a default and is not a column fifo-ledger writes: its inserts would fail; give it a default or drop NOT NULL',
    ]);
    // With a default, the bot's extra column is fine: fifo-ledger's rows take it.
    expect(findingColumns(result, 'fifo_computation_log', 'fine', 'unknown-column')).toContain('bar');
  });

  it('a fifo_allocations without sell_time: a blocker naming it, no crash, and the rest still read', async () => {
    // Why: this shape used to end adopt --check with `column "sell_time" does not exist`.
    // Prepare
    const d = await botDatabase('ALTER TABLE fifo_allocations DROP COLUMN sell_time CASCADE');

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result)).toEqual([
      'fifo_allocations.sell_time (timestamp with time zone) is missing and migrate does not add it: fifo-ledger writes it; add it, or rename the column that holds it',
    ]);
    expect(result.columns.find((c) => c.table === 'fifo_allocations')).toMatchObject({
      missingRequired: ['sell_time'],
    });
    expect(result.versions).toEqual([
      expect.objectContaining({ version: 2, allocations: 2, sells: 2, firstSell: null, lastSell: null }),
    ]);
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
      expect.arrayContaining([
        'column trade_records.total_fees_usd',
        'column trade_records.status',
        'column fifo_allocations.notes',
      ]),
    );
    expect(blockers(result)).toEqual([
      expect.stringMatching(/^fifo_allocations\.symbol .*is missing and migrate does not add it/),
    ]);
    expect(result.legacy.columns.filter((c) => !c.present).map((c) => c.column)).toEqual([
      'realized_profit',
      'pnl_usd',
    ]);
  });

  it("checks: one fifo-ledger's rows break blocks, one it cannot judge warns, the one migrate drops adapts", async () => {
    // Why: a CHECK the rows break stops every run at the first such row, after migrate said all was well.
    // Prepare
    const d = await botDatabase(
      // NOT VALID: the bot's own version 2 has a loss; the check would refuse fifo-ledger's new rows.
      `ALTER TABLE fifo_allocations ADD CONSTRAINT pnl_not_negative CHECK (pnl_usd >= 0) NOT VALID,
         ADD CONSTRAINT proceeds_positive CHECK (proceeds_usd > 0), ADD CONSTRAINT short_symbol CHECK (length(symbol) < 20)`,
    );

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result)).toEqual([
      'fifo_allocations.pnl_usd: CHECK ((pnl_usd >= (0)::numeric)) NOT VALID (pnl_not_negative) refuses rows fifo-ledger writes (pnl_usd is negative on a loss), and migrate does not drop it: drop it (ALTER TABLE fifo_allocations DROP CONSTRAINT pnl_not_negative)',
      expect.stringMatching(
        /^fifo_allocations\.proceeds_usd: .*\(proceeds_positive\) refuses rows fifo-ledger writes \(proceeds_usd is 0 when/,
      ),
    ]);
    expect(warnings(result)).toEqual([
      expect.stringMatching(
        /^fifo_allocations: CHECK \(\(length\(\(symbol\)::text\) < 20\)\) \(short_symbol\) is not a check fifo-ledger knows/,
      ),
    ]);
    expect(findings(result, 'fifo_allocations', 'adapts').map((f) => f.object)).toEqual([
      'fifo_allocations_net_proceeds_usd_check',
    ]);
  });

  it('a net-proceeds check put back after migrate blocks: the migration that drops it will not run again', async () => {
    // Prepare
    const d = await botDatabase();
    await migrateIt(d);
    await d.pool.query('ALTER TABLE fifo_allocations ADD CHECK (net_proceeds_usd >= 0)');

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result)).toEqual([
      expect.stringMatching(
        /^fifo_allocations\.net_proceeds_usd: .* refuses rows fifo-ledger writes \(net_proceeds_usd is negative when the fee exceeds the gross proceeds\), and migrate does not drop it \(0008_bot-coexistence, which drops it, is already applied\)/,
      ),
    ]);
  });

  it('unique keys: the one fifo-ledger needs under the bot name is fine, one without the version blocks', async () => {
    // Why: fifo-ledger writes the same (sell, lot) in its own version beside the bot's version 2.
    // Prepare
    const d = await botDatabase(
      'CREATE UNIQUE INDEX alloc_sell_buy ON fifo_allocations (sell_order_id, buy_order_id)',
    );

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result)).toEqual([
      "fifo_allocations: unique key alloc_sell_buy (sell_order_id, buy_order_id) refuses fifo-ledger's rows: it writes one row per (sell_order_id, buy_order_id, allocation_version), and several share (sell_order_id, buy_order_id); drop it, or add allocation_version to it",
    ]);
    expect(
      findings(result, 'fifo_allocations', 'fine')
        .filter((f) => f.code === 'unique-key')
        .map((f) => f.object),
    ).toEqual(['fifo_allocations_pkey', 'idx_fifo_allocations_unique']);
    expect(changeNames(result)).not.toContain('index fifo_allocations_sell_buy_version_key');
  });

  it('finds what would make migrate fail: a log status the new check refuses, duplicate allocation keys', async () => {
    // Why: a migration that fails half-way on the live database is worse than one that never starts.
    // Prepare
    const d = await botDatabase(
      `ALTER TABLE fifo_computation_log DROP CONSTRAINT fifo_computation_log_status_check;
       INSERT INTO fifo_computation_log (allocation_version, allocation_batch_id, computation_start, status)
       VALUES (2, '00000000-0000-4000-8000-000000000003', now(), 'cancelled');
       DROP INDEX idx_fifo_allocations_unique;
       INSERT INTO fifo_allocations (sell_order_id, buy_order_id, symbol, allocated_size, sell_price,
         sell_fees_per_unit, proceeds_usd, net_proceeds_usd, sell_time, allocation_version)
       SELECT sell_order_id, buy_order_id, symbol, allocated_size, sell_price, sell_fees_per_unit, proceeds_usd,
              net_proceeds_usd, sell_time, allocation_version FROM fifo_allocations WHERE sell_order_id = 'oct-sell'`,
    );

    // Act
    const result = await check(d);

    // Assess
    expect(blockers(result)).toEqual([
      expect.stringMatching(/status the new check refuses \(cancelled: 1\)/),
      expect.stringMatching(/1 duplicate \(sell, lot, version\) keys/),
    ]);
    expect(changeNames(result, 'add')).toContain(
      'constraint fifo_computation_log.fifo_computation_log_status_check',
    );
    expect(changeNames(result, 'create')).toContain('index fifo_allocations_sell_buy_version_key');
    expect(findings(result, 'fifo_allocations', 'adapts').map((f) => f.object)).toContain(
      'fifo_allocations_sell_buy_version_key',
    );
  });

  it('never crashes on an unexpected shape: each oddity is a finding with its table and column', async () => {
    // Why: adopt --check is what an operator runs when the shape is unknown; it must report, not fail.
    // Prepare
    const d = await botDatabase(
      `CREATE VIEW fifo_lots AS SELECT 1 AS allocation_version;
       ALTER TABLE fifo_allocations DROP CONSTRAINT fifo_allocations_check1;
       ALTER TABLE fifo_allocations ALTER COLUMN allocation_version TYPE text,
         ALTER COLUMN sell_time TYPE jsonb USING to_jsonb(sell_time);
       ALTER TABLE fifo_computation_log DROP COLUMN computation_start;
       CREATE TYPE trade_side AS ENUM ('buy', 'sell');
       ALTER TABLE trade_records ALTER COLUMN side TYPE trade_side USING side::trade_side`,
      'viewsMissing',
    );

    // Act
    const result = await check(d);

    // Assess
    expect(result.problems.map((p) => [p.severity, p.table, p.column])).toEqual([
      ['blocker', 'trade_records', 'side'],
      ['blocker', 'fifo_allocations', 'sell_time'],
      ['blocker', 'fifo_allocations', 'allocation_version'],
      ['blocker', 'fifo_lots', null],
      ['blocker', 'fifo_computation_log', 'computation_start'],
      ['warning', 'fifo_allocations', null],
    ]);
    expect(blockers(result)).toEqual(
      expect.arrayContaining([
        "trade_records.side is trade_side: fifo-ledger reads strings there; needed: character varying or text. migrate never changes a column's type: alter it",
        'fifo_lots exists but is not a table (relkind v): migrate cannot adopt it; rename it or drop it',
        expect.stringMatching(/^fifo_allocations\.allocation_version is text: .*; needed: integer/),
      ]),
    );
    expect(warnings(result)).toEqual([
      expect.stringMatching(
        /^fifo_allocations: could not read the allocation versions \(.*\); the report leaves it out$/,
      ),
    ]);
  });
});

describe('adopt --check is read-only', () => {
  it('runs in one READ ONLY transaction, also when a read fails on an odd shape', async () => {
    // Why: "--check" runs against the live database; PostgreSQL itself must refuse any write it might attempt.
    // Prepare
    const d = await botDatabase(
      `ALTER TABLE fifo_allocations DROP CONSTRAINT fifo_allocations_check1;
       ALTER TABLE fifo_allocations ALTER COLUMN sell_time TYPE jsonb USING to_jsonb(sell_time)`,
      'viewsMissing',
    );
    const statements: string[] = [];
    let readOnlyAtCommit: string | undefined;

    // Act
    const result = await withClient(d.pool, (client) => {
      const recorder = {
        async query(text: string, values?: unknown[]) {
          statements.push(text.trim());
          if (text.trim() === 'COMMIT') {
            const { rows } = await client.query<{ ro: string }>(
              "SELECT current_setting('transaction_read_only') AS ro",
            );
            readOnlyAtCommit = rows[0]!.ro;
          }
          return client.query(text, values);
        },
      };
      return checkAdoption(recorder as unknown as pg.ClientBase);
    });

    // Assess
    expect(statements[0]).toBe('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    expect(statements.filter((s) => /^(BEGIN|START|COMMIT|END|ROLLBACK)\b/i.test(s))).toEqual([
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      'ROLLBACK TO SAVEPOINT fifo_adopt_check_read',
      'COMMIT',
    ]);
    expect(statements.at(-1)).toBe('COMMIT');
    expect(readOnlyAtCommit).toBe('on');
    expect(warnings(result)).toEqual([expect.stringMatching(/could not read the allocation versions/)]);
  });

  it('changes nothing: the catalog and every row are the same before and after', async () => {
    // Prepare
    const d = await botDatabase('ALTER TABLE fifo_allocations DROP COLUMN sell_time CASCADE');
    const catalogBefore = await catalogFingerprint(d.pool);
    const dataBefore = await dataFingerprint(d.pool);

    // Act
    await check(d);
    await check(d);

    // Assess
    expect(await catalogFingerprint(d.pool)).toBe(catalogBefore);
    expect(await dataFingerprint(d.pool)).toEqual(dataBefore);
    // The fingerprints do see changes.
    await d.pool.query(`UPDATE fifo_computation_log SET status = 'failed'`);
    await d.pool.query('ALTER TABLE fifo_allocations ADD COLUMN sell_time timestamptz');
    expect(await catalogFingerprint(d.pool)).not.toBe(catalogBefore);
    expect((await dataFingerprint(d.pool)).fifo_computation_log).not.toBe(dataBefore.fifo_computation_log);
  });
});

describe('the adopt command', () => {
  const snakeKeys = (value: unknown): string[] =>
    value === null || typeof value !== 'object'
      ? []
      : Array.isArray(value)
        ? value.flatMap(snakeKeys)
        : Object.entries(value).flatMap(([k, v]) => [k, ...snakeKeys(v)]);

  it('exits 0 on the bot DDL, and 1 with one line per blocker and no stack trace; JSON is snake_case', async () => {
    // Why: a script or an operator acts on the exit code and the blocker lines; a stack trace helps neither.
    // Prepare
    db = await createSharedDatabase();
    await createBotSchema(db.pool, { variant: 'viewsMissing' });
    const ok = await runCli(db.url, ['adopt', '--check']);
    await db.pool.query(
      `ALTER TABLE fifo_allocations DROP COLUMN sell_time;
       ALTER TABLE fifo_allocations ALTER COLUMN allocated_size TYPE integer`,
    );

    // Act
    const text = await runCli(db.url, ['adopt', '--check']);
    const json = await runCli(db.url, ['adopt', '--check', '--json']);

    // Assess
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(ok.stdout).toMatch(/^Verdict: migrate can be applied \(no blocker found\)\.$/m);
    expect(text.code).toBe(1);
    const lines = text.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^fifo: blocker: fifo_allocations\.allocated_size is integer: /),
      expect.stringMatching(
        /^fifo: blocker: fifo_allocations\.sell_time \(timestamp with time zone\) is missing /,
      ),
    ]);
    for (const line of lines)
      expect(text.stdout).toContain(`BLOCKER: ${line.replace(/^fifo: blocker: /, '')}`);
    expect(`${text.stdout}${text.stderr}`).not.toMatch(/^\s+at /m);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ ok: false, blockers: 2, up_to_date: false });
    expect(
      parsed.problems
        .filter((p: { severity: string }) => p.severity === 'blocker')
        .map((p: { message: string }) => `fifo: blocker: ${p.message}`),
    ).toEqual(lines);
    expect(snakeKeys(parsed).filter((k) => !/^[a-z0-9_]+$/.test(k))).toEqual([]);
    expect(json.stderr.trimEnd().split('\n')).toEqual(lines);
  }, 120_000);
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
    expect(empty.problems).toEqual([]);
    expect(after.upToDate).toBe(true);
    expect(after.problems).toEqual([]);
    expect(tables.map((t) => t.name)).toEqual(EXPECTED_TABLES.map((t) => t.name).sort());
    for (const table of EXPECTED_TABLES) {
      expect(columns[table.name], table.name).toEqual(table.columns.map((c) => `${c.name} ${c.type}`));
    }
    expect(indexes.map((i) => i.name)).toEqual(EXPECTED_INDEXES.map((i) => i.name).sort());
    expect(triggers.map((t) => t.name)).toEqual(EXPECTED_TRIGGERS.map((t) => t.name).sort());
    expect(functions.map((f) => f.name)).toEqual(EXPECTED_FUNCTIONS.map((f) => f.signature).sort());
    // fifo-ledger's own tables, as migrate builds them, meet every need the list states.
    expect(after.findings.filter((f) => f.severity !== 'fine')).toEqual([]);
    const described = new Set([
      ...EXPECTED_TABLES.map((t) => t.migration),
      ...EXPECTED_INDEXES.map((i) => i.migration),
      ...EXPECTED_FUNCTIONS.map((f) => f.migration),
      ...Object.keys(MIGRATION_EFFECTS),
    ]);
    expect(migrationFiles().filter((f) => !described.has(f))).toEqual([]);
  });
});
