/**
 * `fifo adopt --check`: what `fifo migrate` would do to the database at hand, read from the
 * catalog in one read-only transaction (it cannot change anything, even by mistake).
 *
 * The catalog is compared with ./expected-schema.ts, the list of what migrations/ create,
 * and with the migrations already recorded in fifo_ledger_migrations: node-pg-migrate runs
 * only the files not recorded there, so an object of an applied migration that is missing is
 * reported as drift (migrate will not recreate it), not as a change.
 */
import { readdirSync } from 'node:fs';
import type pg from 'pg';
import { migrationsDir } from '../db/migrate.ts';
import { utcText } from '../db/sql.ts';
import {
  EXPECTED_FUNCTIONS,
  EXPECTED_INDEXES,
  EXPECTED_TABLES,
  EXPECTED_TRIGGERS,
  type ExpectedIndex,
  type ExpectedTable,
  FOREIGN_KEY_REPLACEMENT,
  LEGACY_ARCHIVE_COLUMNS,
  MIGRATION_EFFECTS,
  MIGRATIONS,
  type MigrationName,
  STATUS_CHECK,
  TRADE_SOURCE_VIEW,
} from './expected-schema.ts';

export type ChangeKind =
  | 'table'
  | 'column'
  | 'index'
  | 'constraint'
  | 'foreign key'
  | 'view'
  | 'function'
  | 'trigger'
  | 'role'
  | 'grant'
  | 'migration';

/** One thing `migrate` would do. */
export interface PlannedChange {
  readonly kind: ChangeKind;
  /** `table`, `table.column`, or the object's name. */
  readonly name: string;
  readonly action: 'create' | 'add' | 'replace' | 'drop' | 'alter' | 'grant' | 'apply';
  readonly migration: MigrationName | string;
  readonly detail: string;
}

export interface Problem {
  /** blocker: `migrate` would fail or leave the jobs unable to run. warning: look at it. */
  readonly severity: 'blocker' | 'warning';
  readonly message: string;
}

export interface ForeignKeyFinding {
  readonly name: string;
  readonly columns: string[];
  readonly references: string;
  /** CASCADE, NO ACTION, RESTRICT, SET NULL, SET DEFAULT */
  readonly onDelete: string;
  /** What happens to it and what replaces it. */
  readonly replacement: string;
}

export interface VersionFinding {
  readonly version: number;
  readonly allocations: number;
  readonly sells: number;
  readonly unmatchedRows: number;
  readonly firstSell: string | null;
  readonly lastSell: string | null;
  readonly lots: number;
  readonly openLots: number;
  readonly pendingChanges: number;
  /** In fifo_versions: change capture records changes for it. */
  readonly registered: boolean;
  readonly lastCompletedFullRun: string | null;
}

export interface TableColumns {
  readonly table: string;
  readonly exists: boolean;
  /** Missing columns `migrate` adds. */
  readonly addedByMigrate: string[];
  /** Missing columns fifo-ledger needs and `migrate` does not add: blockers. */
  readonly missingRequired: string[];
  /** Missing columns nothing needs (the bot's optional or deprecated ones). */
  readonly missingOptional: string[];
  readonly deprecatedPresent: string[];
  readonly deprecatedAbsent: string[];
}

export interface DependentView {
  readonly view: string;
  /** `table` or `table.column` it reads, for the tables fifo-ledger touches. */
  readonly reads: string[];
  /** The deprecated trade_records columns it reads: `legacy archive` turns them NULL. */
  readonly legacyColumns: string[];
}

export interface LegacyColumnFinding {
  readonly column: string;
  readonly present: boolean;
  readonly type: string | null;
  /** Rows with a value (NOT NULL). */
  readonly values: number;
}

export interface AdoptionCheck {
  readonly serverVersion: string;
  readonly migrations: {
    /** fifo_ledger_migrations exists. */
    readonly tableExists: boolean;
    readonly applied: { readonly name: string; readonly runOn: string }[];
    readonly pending: string[];
  };
  /** True when `migrate` has nothing to do. */
  readonly upToDate: boolean;
  readonly changes: PlannedChange[];
  /** Expected objects already in place. */
  readonly inPlace: number;
  readonly foreignKeys: ForeignKeyFinding[];
  readonly versions: VersionFinding[];
  readonly columns: TableColumns[];
  readonly triggersKept: string[];
  readonly dependentViews: DependentView[];
  readonly legacy: {
    readonly columns: LegacyColumnFinding[];
    readonly tradesWithValues: number;
    readonly archiveExists: boolean;
    readonly archivedRows: number;
  };
  readonly problems: Problem[];
}

type Q = pg.ClientBase;

const DELETE_ACTIONS: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/** The migration files migrate would consider, in order (names without .sql). */
export function migrationFiles(dir: string = migrationsDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

async function relationKind(q: Q, name: string): Promise<string | null> {
  const { rows } = await q.query<{ kind: string | null }>(
    'SELECT (SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)) AS kind',
    [name],
  );
  return rows[0]?.kind ?? null;
}

async function columnsOf(q: Q, table: string): Promise<Map<string, string>> {
  const { rows } = await q.query<{ name: string; type: string }>(
    `SELECT attname::text AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  return new Map(rows.map((r) => [r.name, r.type]));
}

interface IndexRow {
  name: string;
  table_name: string;
  definition: string;
  key1: string | null;
  key2: string | null;
}

interface ConstraintRow {
  name: string;
  type: string;
  table_name: string;
  definition: string;
  on_delete: string;
  ref_table: string | null;
  columns: string[];
}

const count = (value: string | number | undefined) => Number(value ?? 0);

/**
 * Reads the catalog and the data shapes `migrate` depends on. Runs in its own read-only
 * transaction on `client` (which must not be in a transaction).
 */
export async function checkAdoption(client: Q): Promise<AdoptionCheck> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const result = await readAdoption(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function readAdoption(q: Q): Promise<AdoptionCheck> {
  const problems: Problem[] = [];
  const changes: PlannedChange[] = [];
  let inPlace = 0;

  const { rows: server } = await q.query<{ v: string }>('SELECT version() AS v');

  // --- migrations -----------------------------------------------------------------------
  const files = migrationFiles();
  const migrationsTable = (await relationKind(q, 'fifo_ledger_migrations')) !== null;
  const applied = migrationsTable
    ? (
        await q.query<{ name: string; run_on: string }>(
          `SELECT name, ${utcText('run_on')} AS run_on FROM fifo_ledger_migrations ORDER BY run_on, id`,
        )
      ).rows.map((r) => ({ name: r.name, runOn: r.run_on }))
    : [];
  applied.forEach((m, i) => {
    if (files[i] !== m.name) {
      problems.push({
        severity: 'blocker',
        message: `fifo_ledger_migrations records "${m.name}" where migrations/ has "${files[i] ?? '(nothing)'}": migrate checks the order and would refuse`,
      });
    }
  });
  const appliedNames = new Set(applied.map((m) => m.name));
  const pending = files.filter((f) => !appliedNames.has(f));
  const isPending = (m: string) => pending.includes(m);
  const drift = (what: string, m: string) =>
    problems.push({
      severity: 'warning',
      message: `${what} is missing although ${m} is recorded as applied: migrate will not recreate it`,
    });
  const plan = (change: PlannedChange) => {
    if (isPending(change.migration)) changes.push(change);
    else drift(`${change.kind} ${change.name}`, change.migration);
  };
  /** An object a migration creates: planned when missing, listed as replaced when its migration is pending. */
  const expectObject = (
    exists: boolean,
    object: { kind: ChangeKind; name: string; migration: string; create: string; replace: string },
  ) => {
    const { kind, name, migration } = object;
    if (!exists) {
      plan({ kind, name, action: 'create', migration, detail: object.create });
      return;
    }
    inPlace++;
    if (isPending(migration))
      changes.push({ kind, name, action: 'replace', migration, detail: object.replace });
  };

  // --- tables and columns ---------------------------------------------------------------
  const tableExists = new Map<string, boolean>();
  const columnsByTable = new Map<string, Map<string, string>>();
  const columnFindings: TableColumns[] = [];
  for (const table of EXPECTED_TABLES) {
    const kind = await relationKind(q, table.name);
    if (kind !== null && kind !== 'r' && kind !== 'p') {
      problems.push({
        severity: 'blocker',
        message: `${table.name} exists but is not a table (relkind ${kind}): migrate cannot adopt it`,
      });
    }
    const exists = kind !== null;
    tableExists.set(table.name, exists);
    const live = exists ? await columnsOf(q, table.name) : new Map<string, string>();
    columnsByTable.set(table.name, live);
    if (!exists) {
      plan({
        kind: 'table',
        name: table.name,
        action: 'create',
        migration: table.migration,
        detail: `${table.columns.length} columns${table.name === 'trade_records' ? ", the bot's columns (the deprecated ones included)" : ''}`,
      });
    } else {
      inPlace++;
    }
    columnFindings.push(checkColumns(table, exists, live, plan, problems));
  }

  // --- foreign keys and checks ----------------------------------------------------------
  const { rows: constraints } = await q.query<ConstraintRow>(
    `SELECT con.conname::text AS name, con.contype::text AS type, rel.relname::text AS table_name,
            pg_get_constraintdef(con.oid) AS definition, con.confdeltype::text AS on_delete,
            ref.relname::text AS ref_table,
            coalesce((SELECT array_agg(a.attname::text ORDER BY k.n)
                      FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum), '{}') AS columns
     FROM pg_constraint con
     JOIN pg_class rel ON rel.oid = con.conrelid
     LEFT JOIN pg_class ref ON ref.oid = con.confrelid
     WHERE con.conrelid IN (SELECT to_regclass(n) FROM unnest($1::text[]) AS n) AND con.contype IN ('f', 'c')
     ORDER BY con.conname`,
    [['fifo_allocations', 'fifo_computation_log']],
  );
  const foreignKeys: ForeignKeyFinding[] = constraints
    .filter((c) => c.type === 'f' && c.table_name === 'fifo_allocations' && c.ref_table === 'trade_records')
    .map((c) => ({
      name: c.name,
      columns: c.columns,
      references: `trade_records(${c.definition.match(/REFERENCES\s+\S+?\(([^)]*)\)/i)?.[1] ?? 'order_id'})`,
      onDelete: DELETE_ACTIONS[c.on_delete] ?? c.on_delete,
      replacement: FOREIGN_KEY_REPLACEMENT,
    }));
  for (const fk of foreignKeys) {
    if (isPending(MIGRATIONS.fifoTables)) {
      changes.push({
        kind: 'foreign key',
        name: `fifo_allocations.${fk.name}`,
        action: 'drop',
        migration: MIGRATIONS.fifoTables,
        detail: `(${fk.columns.join(', ')}) -> ${fk.references} ON DELETE ${fk.onDelete}; replaced by change capture`,
      });
    } else {
      problems.push({
        severity: 'warning',
        message: `fifo_allocations.${fk.name} references trade_records (ON DELETE ${fk.onDelete}) although 0002 was applied: a deleted trade would ${fk.onDelete === 'CASCADE' ? 'silently delete its allocations' : 'be refused'}; drop it`,
      });
    }
  }

  const logExists = tableExists.get(STATUS_CHECK.table) === true;
  const statusChecks = constraints.filter(
    (c) => c.type === 'c' && c.table_name === STATUS_CHECK.table && /status/i.test(c.definition),
  );
  const statusList = STATUS_CHECK.statuses.join(', ');
  if (logExists && isPending(STATUS_CHECK.migration)) {
    changes.push({
      kind: 'constraint',
      name: `${STATUS_CHECK.table}.${STATUS_CHECK.name}`,
      action: statusChecks.length > 0 ? 'replace' : 'add',
      migration: STATUS_CHECK.migration,
      detail:
        `CHECK (status IN (${statusList}))` +
        (statusChecks.length > 0
          ? `, replacing ${statusChecks.map((c) => `${c.name} ${c.definition}`).join('; ')}`
          : ''),
    });
    const { rows: bad } = await q.query<{ status: string; n: string }>(
      `SELECT status::text AS status, count(*)::text AS n FROM fifo_computation_log
       WHERE status IS NOT NULL AND status::text <> ALL ($1::text[]) GROUP BY status ORDER BY status`,
      [[...STATUS_CHECK.statuses]],
    );
    if (bad.length > 0) {
      problems.push({
        severity: 'blocker',
        message: `fifo_computation_log has rows with a status the new check refuses (${bad.map((b) => `${b.status}: ${b.n}`).join(', ')}): migrate would fail; update or delete them first`,
      });
    }
  } else if (logExists) {
    if (statusChecks.some((c) => c.name === STATUS_CHECK.name)) inPlace++;
    else drift(`constraint ${STATUS_CHECK.table}.${STATUS_CHECK.name}`, STATUS_CHECK.migration);
  }

  // --- indexes --------------------------------------------------------------------------
  const { rows: indexes } = await q.query<IndexRow>(
    `SELECT c.relname::text AS name, t.relname::text AS table_name, pg_get_indexdef(i.indexrelid) AS definition,
            a1.attname::text AS key1, a2.attname::text AS key2
     FROM pg_index i
     JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_class t ON t.oid = i.indrelid
     LEFT JOIN pg_attribute a1 ON a1.attrelid = i.indrelid AND a1.attnum = i.indkey[0]
     LEFT JOIN pg_attribute a2 ON a2.attrelid = i.indrelid AND a2.attnum = i.indkey[1]
     WHERE i.indrelid IN (SELECT to_regclass(n) FROM unnest($1::text[]) AS n)
     ORDER BY c.relname`,
    [[...new Set(EXPECTED_INDEXES.map((i) => i.table))]],
  );
  for (const expected of EXPECTED_INDEXES) {
    const found = findIndex(expected, indexes);
    if (found) {
      inPlace++;
      continue;
    }
    const tableIsNew = !tableExists.get(expected.table);
    plan({
      kind: 'index',
      name: expected.name,
      action: 'create',
      migration: expected.migration,
      detail: `ON ${expected.table} ${expected.definition}${tableIsNew ? ' (with the new table)' : ''}`,
    });
    if (expected.equivalent === 'sell-buy-version-unique' && !tableIsNew && isPending(expected.migration)) {
      const { rows } = await q.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM (
           SELECT 1 FROM fifo_allocations GROUP BY sell_order_id, coalesce(buy_order_id, ''), allocation_version
           HAVING count(*) > 1) d`,
      );
      if (count(rows[0]?.n) > 0) {
        problems.push({
          severity: 'blocker',
          message: `fifo_allocations has ${rows[0]!.n} duplicate (sell, lot, version) keys: creating the unique index would fail`,
        });
      }
    }
  }

  // --- the trade source view, change capture --------------------------------------------
  const viewKind = await relationKind(q, TRADE_SOURCE_VIEW.name);
  if (viewKind === null) {
    plan({
      kind: 'view',
      name: TRADE_SOURCE_VIEW.name,
      action: 'create',
      migration: TRADE_SOURCE_VIEW.migration,
      detail: 'the one view the engine reads (filled trades, side lower-cased, float8 as text)',
    });
  } else {
    inPlace++;
    if (viewKind !== 'v') {
      problems.push({
        severity: 'blocker',
        message: `${TRADE_SOURCE_VIEW.name} exists but is not a view (relkind ${viewKind})`,
      });
    } else if (isPending(TRADE_SOURCE_VIEW.migration)) {
      changes.push({
        kind: 'view',
        name: TRADE_SOURCE_VIEW.name,
        action: 'replace',
        migration: TRADE_SOURCE_VIEW.migration,
        detail: 'CREATE OR REPLACE VIEW with the standard definition',
      });
    }
  }
  for (const expected of EXPECTED_FUNCTIONS) {
    const { rows: fn } = await q.query<{ exists: boolean }>(
      'SELECT to_regprocedure($1) IS NOT NULL AS exists',
      [expected.signature],
    );
    expectObject(fn[0]?.exists === true, {
      kind: 'function',
      name: expected.signature,
      migration: expected.migration,
      create: expected.definition,
      replace: `CREATE OR REPLACE FUNCTION: ${expected.definition}`,
    });
  }
  const { rows: triggers } = await q.query<{ name: string; definition: string }>(
    `SELECT tgname::text AS name, pg_get_triggerdef(oid) AS definition FROM pg_trigger
     WHERE tgrelid = to_regclass('trade_records') AND NOT tgisinternal ORDER BY tgname`,
  );
  for (const expected of EXPECTED_TRIGGERS) {
    expectObject(
      triggers.some((t) => t.name === expected.name),
      {
        kind: 'trigger',
        name: `${expected.table}.${expected.name}`,
        migration: expected.migration,
        create: expected.definition,
        replace: `dropped and created again: ${expected.definition}`,
      },
    );
  }
  const ourTriggers = new Set(EXPECTED_TRIGGERS.map((t) => t.name));
  const triggersKept = triggers.filter((t) => !ourTriggers.has(t.name)).map((t) => t.definition);

  // --- what the other pending migrations do ---------------------------------------------
  const described = new Set<string>([
    ...EXPECTED_TABLES.map((t) => t.migration),
    ...EXPECTED_INDEXES.map((i) => i.migration),
    ...EXPECTED_TRIGGERS.map((t) => t.migration),
    ...EXPECTED_FUNCTIONS.map((f) => f.migration),
    ...Object.keys(MIGRATION_EFFECTS),
  ]);
  for (const name of pending) {
    for (const effect of MIGRATION_EFFECTS[name] ?? []) {
      if (effect.kind === 'role') {
        const { rows } = await q.query<{ exists: boolean }>(
          'SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists',
          [effect.name],
        );
        if (rows[0]?.exists) continue;
      }
      changes.push({ ...effect, migration: name });
    }
    if (!described.has(name)) {
      changes.push({
        kind: 'migration',
        name,
        action: 'apply',
        migration: name,
        detail: 'not described in shared/legacy/expected-schema.ts: read the file before migrating',
      });
      problems.push({
        severity: 'warning',
        message: `pending migration ${name} is not described by this check: read migrations/${name}.sql`,
      });
    }
  }

  // --- views that read the tables migrate touches ----------------------------------------
  const dependentViews = await readDependentViews(q);

  // --- versions and legacy values -------------------------------------------------------
  const versions = await readVersions(q, tableExists);
  const legacy = await readLegacyValues(q, columnsByTable.get('trade_records')!, tableExists);

  return {
    serverVersion: server[0]?.v ?? '',
    migrations: { tableExists: migrationsTable, applied, pending },
    upToDate: pending.length === 0 && changes.length === 0,
    changes,
    inPlace,
    foreignKeys,
    versions,
    columns: columnFindings,
    triggersKept,
    dependentViews,
    legacy,
    problems,
  };
}

function checkColumns(
  table: ExpectedTable,
  exists: boolean,
  live: Map<string, string>,
  plan: (change: PlannedChange) => void,
  problems: Problem[],
): TableColumns {
  const finding = {
    table: table.name,
    exists,
    addedByMigrate: [] as string[],
    missingRequired: [] as string[],
    missingOptional: [] as string[],
    deprecatedPresent: [] as string[],
    deprecatedAbsent: [] as string[],
  };
  if (!exists) return finding;
  for (const column of table.columns) {
    const present = live.has(column.name);
    if (column.deprecated) (present ? finding.deprecatedPresent : finding.deprecatedAbsent).push(column.name);
    if (present) continue;
    if (column.addedIfMissing) {
      finding.addedByMigrate.push(column.name);
      plan({
        kind: 'column',
        name: `${table.name}.${column.name}`,
        action: 'add',
        migration: table.migration,
        detail: column.type,
      });
    } else if (column.required) {
      finding.missingRequired.push(column.name);
      problems.push({
        severity: 'blocker',
        message: `${table.name}.${column.name} (${column.type}) is missing and migrate does not add it: fifo-ledger needs it${
          table.name === 'trade_records'
            ? ' (or redefine the view fifo_trade_source over your column names)'
            : ''
        }`,
      });
    } else if (!column.deprecated) {
      finding.missingOptional.push(column.name);
    }
  }
  return finding;
}

function findIndex(expected: ExpectedIndex, indexes: readonly IndexRow[]): IndexRow | undefined {
  const onTable = indexes.filter((i) => i.table_name === expected.table);
  switch (expected.equivalent) {
    case 'symbol-order-time':
      return onTable.find((i) => i.key1 === 'symbol' && i.key2 === 'order_time');
    case 'sell-buy-version-unique':
      return onTable.find((i) =>
        /^CREATE UNIQUE INDEX.*sell_order_id.*buy_order_id.*allocation_version/is.test(i.definition),
      );
    default:
      return onTable.find((i) => i.name === expected.name);
  }
}

async function readDependentViews(q: Q): Promise<DependentView[]> {
  const tables = EXPECTED_TABLES.map((t) => t.name);
  const { rows } = await q.query<{ view: string; table_name: string; column_name: string | null }>(
    `SELECT DISTINCT v.relname::text AS view, t.relname::text AS table_name, a.attname::text AS column_name
     FROM pg_depend d
     JOIN pg_rewrite r ON r.oid = d.objid
     JOIN pg_class v ON v.oid = r.ev_class
     JOIN pg_class t ON t.oid = d.refobjid
     LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
       AND t.oid IN (SELECT to_regclass(n) FROM unnest($1::text[]) AS n) AND v.oid <> t.oid
     ORDER BY 1, 2, 3`,
    [tables],
  );
  const byView = new Map<string, DependentView>();
  const deprecated = new Set(EXPECTED_TABLES[0]!.columns.filter((c) => c.deprecated).map((c) => c.name));
  for (const r of rows) {
    const entry = byView.get(r.view) ?? { view: r.view, reads: [], legacyColumns: [] };
    const tableRead = r.column_name ? `${r.table_name}.${r.column_name}` : r.table_name;
    if (!entry.reads.includes(tableRead)) entry.reads.push(tableRead);
    if (r.table_name === 'trade_records' && r.column_name && deprecated.has(r.column_name)) {
      entry.legacyColumns.push(r.column_name);
    }
    byView.set(r.view, entry);
  }
  // A view that reads a column also depends on its table: keep the columns, drop the bare table.
  for (const entry of byView.values()) {
    const withColumns = new Set(entry.reads.filter((x) => x.includes('.')).map((x) => x.split('.')[0]));
    entry.reads.splice(
      0,
      entry.reads.length,
      ...entry.reads.filter((x) => x.includes('.') || !withColumns.has(x)),
    );
  }
  return [...byView.values()];
}

async function readVersions(q: Q, tableExists: Map<string, boolean>): Promise<VersionFinding[]> {
  if (!tableExists.get('fifo_allocations')) return [];
  const byVersion = new Map<number, VersionFinding>();
  const entry = (version: number): VersionFinding =>
    byVersion.get(version) ?? {
      version,
      allocations: 0,
      sells: 0,
      unmatchedRows: 0,
      firstSell: null,
      lastSell: null,
      lots: 0,
      openLots: 0,
      pendingChanges: 0,
      registered: false,
      lastCompletedFullRun: null,
    };
  const { rows: allocations } = await q.query<{
    v: number;
    rows: string;
    sells: string;
    unmatched: string;
    first: string | null;
    last: string | null;
  }>(
    `SELECT allocation_version AS v, count(*)::text AS rows, count(DISTINCT sell_order_id)::text AS sells,
            count(*) FILTER (WHERE buy_order_id IS NULL)::text AS unmatched,
            ${utcText('min(sell_time)')} AS first, ${utcText('max(sell_time)')} AS last
     FROM fifo_allocations GROUP BY allocation_version ORDER BY allocation_version`,
  );
  for (const r of allocations) {
    byVersion.set(r.v, {
      ...entry(r.v),
      allocations: count(r.rows),
      sells: count(r.sells),
      unmatchedRows: count(r.unmatched),
      firstSell: r.first,
      lastSell: r.last,
    });
  }
  if (tableExists.get('fifo_lots')) {
    const { rows } = await q.query<{ v: number; lots: string; open: string }>(
      `SELECT allocation_version AS v, count(*)::text AS lots, count(*) FILTER (WHERE remaining_size > 0)::text AS open
       FROM fifo_lots GROUP BY allocation_version`,
    );
    for (const r of rows) byVersion.set(r.v, { ...entry(r.v), lots: count(r.lots), openLots: count(r.open) });
  }
  if (tableExists.get('fifo_trade_changes')) {
    const { rows } = await q.query<{ v: number; n: string }>(
      'SELECT allocation_version AS v, count(*)::text AS n FROM fifo_trade_changes GROUP BY allocation_version',
    );
    for (const r of rows) byVersion.set(r.v, { ...entry(r.v), pendingChanges: count(r.n) });
  }
  if (tableExists.get('fifo_versions')) {
    const { rows } = await q.query<{ v: number }>('SELECT allocation_version AS v FROM fifo_versions');
    for (const r of rows) byVersion.set(r.v, { ...entry(r.v), registered: true });
  }
  if (tableExists.get('fifo_computation_log')) {
    const { rows } = await q.query<{ v: number; at: string | null }>(
      `SELECT allocation_version AS v, ${utcText('max(coalesce(computation_end, computation_start))')} AS at
       FROM fifo_computation_log
       WHERE status = 'completed' AND computation_mode = 'full' AND allocation_version IS NOT NULL
       GROUP BY allocation_version`,
    );
    for (const r of rows) {
      if (byVersion.has(r.v)) byVersion.set(r.v, { ...entry(r.v), lastCompletedFullRun: r.at });
    }
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

async function readLegacyValues(
  q: Q,
  tradeColumns: Map<string, string>,
  tableExists: Map<string, boolean>,
): Promise<AdoptionCheck['legacy']> {
  const present = LEGACY_ARCHIVE_COLUMNS.filter((c) => tradeColumns.has(c));
  let values: Record<string, string> = {};
  let tradesWithValues = 0;
  if (present.length > 0) {
    // Identifiers from the fixed list above only.
    const { rows } = await q.query<Record<string, string>>(
      `SELECT count(*) FILTER (WHERE ${present.map((c) => `${c} IS NOT NULL`).join(' OR ')})::text AS any_value,
              ${present.map((c) => `count(${c})::text AS ${c}`).join(', ')}
       FROM trade_records`,
    );
    values = rows[0] ?? {};
    tradesWithValues = count(values.any_value);
  }
  const archiveExists = tableExists.get('fifo_legacy_pnl_archive') === true;
  const archivedRows = archiveExists
    ? count(
        (await q.query<{ n: string }>('SELECT count(*)::text AS n FROM fifo_legacy_pnl_archive')).rows[0]?.n,
      )
    : 0;
  return {
    columns: LEGACY_ARCHIVE_COLUMNS.map((c) => ({
      column: c,
      present: tradeColumns.has(c),
      type: tradeColumns.get(c) ?? null,
      values: count(values[c]),
    })),
    tradesWithValues,
    archiveExists,
    archivedRows,
  };
}
