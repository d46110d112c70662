/**
 * `fifo adopt --check`: what `fifo migrate` would do to the database at hand, and what would
 * break, read from the catalog in one read-only transaction (it cannot change anything, even
 * by mistake).
 *
 * The catalog is compared with ./expected-schema.ts, the list of what migrations/ create and
 * of what fifo-ledger's writers need of every table and column they touch, and with the
 * migrations already recorded in fifo_ledger_migrations: node-pg-migrate runs only the files
 * not recorded there, so an object of an applied migration that is missing is reported as
 * drift (migrate will not recreate it), not as a change.
 *
 * The parts: ./adopt-check-catalog.ts reads the live shape, ./adopt-check-columns.ts and
 * ./adopt-check-constraints.ts judge it (findings), ./adopt-check-data.ts reads the rows the
 * report counts, ./adopt-check-output.ts renders text and JSON.
 */
import type pg from 'pg';
import { shippedMigrations } from '../db/schema-state.ts';
import { utcText } from '../db/sql.ts';
import { type Catalog, readCatalog, relationKind } from './adopt-check-catalog.ts';
import { compareColumns, type TableColumns } from './adopt-check-columns.ts';
import {
  compareChecks,
  compareForeignKeys,
  compareKeys,
  findExpectedIndex,
} from './adopt-check-constraints.ts';
import {
  duplicateAllocationKeys,
  type LegacyValues,
  readLegacyValues,
  readVersions,
  refusedStatuses,
  type VersionFinding,
} from './adopt-check-data.ts';
import {
  asProblem,
  type Finding,
  type MigrationState,
  type Problem,
  problem,
} from './adopt-check-findings.ts';
import {
  DROPPED_CHECKS,
  EXPECTED_FUNCTIONS,
  EXPECTED_INDEXES,
  EXPECTED_TABLES,
  EXPECTED_TRIGGERS,
  FOREIGN_KEY_REPLACEMENT,
  MIGRATION_EFFECTS,
  MIGRATIONS,
  type MigrationName,
  STATUS_CHECK,
  TRADE_SOURCE_VIEW,
} from './expected-schema.ts';

export type { TableColumns } from './adopt-check-columns.ts';
export type { LegacyColumnFinding, LegacyValues, VersionFinding } from './adopt-check-data.ts';
export type { Finding, FindingCode, Problem, Severity } from './adopt-check-findings.ts';

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

export interface ForeignKeyFinding {
  readonly name: string;
  readonly columns: readonly string[];
  readonly references: string;
  /** CASCADE, NO ACTION, RESTRICT, SET NULL, SET DEFAULT */
  readonly onDelete: string;
  /** What happens to it and what replaces it. */
  readonly replacement: string;
}

export interface DependentView {
  readonly view: string;
  /** `table` or `table.column` it reads, for the tables fifo-ledger touches. */
  readonly reads: string[];
  /** The deprecated trade_records columns it reads: `legacy archive` turns them NULL. */
  readonly legacyColumns: string[];
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
  /** Per table: the columns missing, added by migrate, deprecated, unknown. */
  readonly columns: TableColumns[];
  /**
   * Every table fifo-ledger reads or writes against what it needs (types, nullability,
   * defaults, checks, unique keys), each difference with what becomes of it.
   */
  readonly findings: Finding[];
  readonly triggersKept: string[];
  readonly dependentViews: DependentView[];
  readonly legacy: LegacyValues;
  /** The blockers and warnings: those of `findings`, and those of the migrations and the rows. */
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
export const migrationFiles = shippedMigrations;

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

async function readMigrations(q: Q, problems: Problem[]) {
  const files = migrationFiles();
  const tableExists = (await relationKind(q, 'fifo_ledger_migrations')) !== null;
  const applied = tableExists
    ? (
        await q.query<{ name: string; run_on: string }>(
          `SELECT name, ${utcText('run_on')} AS run_on FROM fifo_ledger_migrations ORDER BY run_on, id`,
        )
      ).rows.map((r) => ({ name: r.name, runOn: r.run_on }))
    : [];
  applied.forEach((m, i) => {
    if (files[i] !== m.name) {
      problems.push(
        problem(
          'blocker',
          `fifo_ledger_migrations records "${m.name}" where migrations/ has "${files[i] ?? '(nothing)'}": migrate checks the order and would refuse`,
          'fifo_ledger_migrations',
        ),
      );
    }
  });
  const appliedNames = new Set(applied.map((m) => m.name));
  return { tableExists, applied, pending: files.filter((f) => !appliedNames.has(f)) };
}

async function readAdoption(q: Q): Promise<AdoptionCheck> {
  const problems: Problem[] = [];
  const changes: PlannedChange[] = [];
  const findings: Finding[] = [];
  let inPlace = 0;

  const { rows: server } = await q.query<{ v: string }>('SELECT version() AS v');
  const migrations = await readMigrations(q, problems);
  const state: MigrationState = { isPending: (m) => migrations.pending.includes(m) };
  const drift = (what: string, m: string) =>
    problems.push(
      problem(
        'warning',
        `${what} is missing although ${m} is recorded as applied: migrate will not recreate it`,
      ),
    );
  const plan = (change: PlannedChange) => {
    if (state.isPending(change.migration)) changes.push(change);
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
    if (state.isPending(migration))
      changes.push({ kind, name, action: 'replace', migration, detail: object.replace });
  };
  const found = (list: Finding[]) => {
    findings.push(...list);
    for (const f of list) {
      const p = asProblem(f);
      if (p) problems.push(p);
    }
  };

  // --- tables, columns, checks, keys ----------------------------------------------------
  const catalog = await readCatalog(
    q,
    EXPECTED_TABLES.map((t) => t.name),
  );
  const ourTables = new Set(EXPECTED_TABLES.map((t) => t.name));
  const columnSummaries: TableColumns[] = [];
  for (const table of EXPECTED_TABLES) {
    const live = catalog.tables.get(table.name)!;
    if (live.kind === null) {
      const pending = state.isPending(table.migration);
      if (pending) {
        changes.push({
          kind: 'table',
          name: table.name,
          action: 'create',
          migration: table.migration,
          detail: `${table.columns.length} columns${table.name === 'trade_records' ? ", the bot's columns (the deprecated ones included)" : ''}`,
        });
      }
      found([
        {
          table: table.name,
          column: null,
          object: null,
          severity: pending ? 'adapts' : 'blocker',
          code: 'table',
          message: pending
            ? `${table.name} is missing: migrate (${table.migration}) creates it`
            : `${table.name} is missing although ${table.migration} is applied, and migrate will not create it again: restore it from a backup, or drop fifo-ledger's schema and migrate again`,
        },
      ]);
    } else {
      inPlace++;
      if (live.kind !== 'r' && live.kind !== 'p') {
        found([
          {
            table: table.name,
            column: null,
            object: null,
            severity: 'blocker',
            code: 'table',
            message: `${table.name} exists but is not a table (relkind ${live.kind}): migrate cannot adopt it; rename it or drop it`,
          },
        ]);
        // Its columns and keys mean nothing until it is a table: one line says it all.
        columnSummaries.push(compareColumns(table, { ...live, kind: null }, state).summary);
        continue;
      }
    }
    const { findings: columnFindings, summary } = compareColumns(table, live, state);
    columnSummaries.push(summary);
    for (const name of summary.addedByMigrate) {
      const column = table.columns.find((c) => c.name === name)!;
      changes.push({
        kind: 'column',
        name: `${table.name}.${name}`,
        action: 'add',
        migration: column.migration ?? table.migration,
        detail: column.type,
      });
    }
    found(columnFindings);
    found(compareChecks(table, catalog.checks, state));
    found(compareKeys(table, live, catalog.indexes, state));
    found(compareForeignKeys(table, catalog.foreignKeys, ourTables));
  }

  // --- the bot's foreign keys to trade_records, the checks migrate drops -----------------
  const foreignKeys = cascadingKeys(catalog);
  for (const fk of foreignKeys) {
    if (state.isPending(MIGRATIONS.fifoTables)) {
      changes.push({
        kind: 'foreign key',
        name: `fifo_allocations.${fk.name}`,
        action: 'drop',
        migration: MIGRATIONS.fifoTables,
        detail: `(${fk.columns.join(', ')}) -> ${fk.references} ON DELETE ${fk.onDelete}; replaced by change capture`,
      });
    } else {
      problems.push(
        problem(
          'warning',
          `fifo_allocations.${fk.name} references trade_records (ON DELETE ${fk.onDelete}) although 0002 was applied: a deleted trade would ${fk.onDelete === 'CASCADE' ? 'silently delete its allocations' : 'be refused'}; drop it`,
          'fifo_allocations',
        ),
      );
    }
  }
  for (const dropped of DROPPED_CHECKS.filter((d) => d.action === 'drop' && state.isPending(d.migration))) {
    for (const check of catalog.checks.filter(
      (c) => c.table === dropped.table && dropped.matches(c.definition),
    )) {
      changes.push({
        kind: 'constraint',
        name: `${dropped.table}.${check.name}`,
        action: 'drop',
        migration: dropped.migration,
        detail: `${check.definition}: ${dropped.detail}`,
      });
    }
  }
  inPlace += await planStatusCheck(q, catalog, state, changes, problems, drift);

  // --- indexes --------------------------------------------------------------------------
  for (const expected of EXPECTED_INDEXES) {
    if (findExpectedIndex(expected, catalog.indexes)) {
      inPlace++;
      continue;
    }
    const tableIsNew = catalog.tables.get(expected.table)?.kind === null;
    plan({
      kind: 'index',
      name: expected.name,
      action: 'create',
      migration: expected.migration,
      detail: `ON ${expected.table} ${expected.definition}${tableIsNew ? ' (with the new table)' : ''}`,
    });
    if (
      expected.equivalent === 'sell-buy-version-unique' &&
      !tableIsNew &&
      state.isPending(expected.migration)
    ) {
      const duplicates = await duplicateAllocationKeys(q, catalog, problems);
      if (duplicates > 0) {
        problems.push(
          problem(
            'blocker',
            `fifo_allocations has ${duplicates} duplicate (sell, lot, version) keys: creating the unique index would fail; delete the duplicate rows first`,
            'fifo_allocations',
          ),
        );
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
      problems.push(
        problem(
          'blocker',
          `${TRADE_SOURCE_VIEW.name} exists but is not a view (relkind ${viewKind}): rename it or drop it`,
          TRADE_SOURCE_VIEW.name,
        ),
      );
    } else if (state.isPending(TRADE_SOURCE_VIEW.migration)) {
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
  await planEffects(q, migrations.pending, changes, problems);

  return {
    serverVersion: server[0]?.v ?? '',
    migrations,
    upToDate: migrations.pending.length === 0 && changes.length === 0,
    changes,
    inPlace,
    foreignKeys,
    versions: await readVersions(q, catalog, problems),
    columns: columnSummaries,
    findings,
    triggersKept,
    dependentViews: await readDependentViews(q),
    legacy: await readLegacyValues(q, catalog, problems),
    problems,
  };
}

/** The bot's keys from fifo_allocations to trade_records, which 0002 drops. */
function cascadingKeys(catalog: Catalog): ForeignKeyFinding[] {
  return catalog.foreignKeys
    .filter((c) => c.table === 'fifo_allocations' && c.refTable === 'trade_records')
    .map((c) => ({
      name: c.name,
      columns: c.columns,
      references: `trade_records(${c.definition.match(/REFERENCES\s+\S+?\(([^)]*)\)/i)?.[1] ?? 'order_id'})`,
      onDelete: DELETE_ACTIONS[c.onDelete] ?? c.onDelete,
      replacement: FOREIGN_KEY_REPLACEMENT,
    }));
}

/** The log's status check, which 0002 replaces; returns the objects in place (0 or 1). */
async function planStatusCheck(
  q: Q,
  catalog: Catalog,
  state: MigrationState,
  changes: PlannedChange[],
  problems: Problem[],
  drift: (what: string, m: string) => void,
): Promise<number> {
  if ((catalog.tables.get(STATUS_CHECK.table)?.kind ?? null) === null) return 0;
  const statusChecks = catalog.checks.filter(
    (c) => c.table === STATUS_CHECK.table && /status/i.test(c.definition),
  );
  if (!state.isPending(STATUS_CHECK.migration)) {
    if (statusChecks.some((c) => c.name === STATUS_CHECK.name)) return 1;
    drift(`constraint ${STATUS_CHECK.table}.${STATUS_CHECK.name}`, STATUS_CHECK.migration);
    return 0;
  }
  changes.push({
    kind: 'constraint',
    name: `${STATUS_CHECK.table}.${STATUS_CHECK.name}`,
    action: statusChecks.length > 0 ? 'replace' : 'add',
    migration: STATUS_CHECK.migration,
    detail:
      `CHECK (status IN (${STATUS_CHECK.statuses.join(', ')}))` +
      (statusChecks.length > 0
        ? `, replacing ${statusChecks.map((c) => `${c.name} ${c.definition}`).join('; ')}`
        : ''),
  });
  const bad = await refusedStatuses(q, catalog, problems);
  if (bad.length > 0) {
    problems.push(
      problem(
        'blocker',
        `fifo_computation_log has rows with a status the new check refuses (${bad.map((b) => `${b.status}: ${b.n}`).join(', ')}): migrate would fail; update or delete them first`,
        STATUS_CHECK.table,
        'status',
      ),
    );
  }
  return 0;
}

/** The pending migrations' effects that are not objects of the lists (roles, grants, ...). */
async function planEffects(q: Q, pending: readonly string[], changes: PlannedChange[], problems: Problem[]) {
  const described = new Set<string>([
    ...EXPECTED_TABLES.map((t) => t.migration),
    ...EXPECTED_TABLES.flatMap((t) => t.columns.flatMap((c) => (c.migration ? [c.migration] : []))),
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
      problems.push(
        problem(
          'warning',
          `pending migration ${name} is not described by this check: read migrations/${name}.sql`,
        ),
      );
    }
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
