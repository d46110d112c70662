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
 * ./adopt-check-constraints.ts judge it (findings), ./adopt-check-tables.ts and
 * ./adopt-check-objects.ts plan each kind of object, ./adopt-check-data.ts reads the rows the
 * report counts, ./adopt-check-output.ts renders text and JSON. Each kind returns its part
 * (./adopt-check-findings.ts, Part); readAdoption below merges them.
 */
import type pg from 'pg';
import { shippedMigrations } from '../db/schema-state.ts';
import { utcText } from '../db/sql.ts';
import { type Catalog, readCatalog, relationKind } from './adopt-check-catalog.ts';
import type { TableColumns } from './adopt-check-columns.ts';
import {
  type LegacyValues,
  readLegacyValues,
  readVersions,
  type VersionFinding,
} from './adopt-check-data.ts';
import {
  type Finding,
  type MigrationState,
  mergeParts,
  NOTHING,
  type Part,
  type PlannedChange,
  type Problem,
  problem,
} from './adopt-check-findings.ts';
import { checkFunctions, checkTradeSourceView, checkTriggers, planEffects } from './adopt-check-objects.ts';
import {
  checkIndexes,
  checkTables,
  type ForeignKeyFinding,
  planDroppedChecks,
  planForeignKeyDrops,
  planStatusCheck,
} from './adopt-check-tables.ts';
import { EXPECTED_TABLES } from './expected-schema.ts';

export type { TableColumns } from './adopt-check-columns.ts';
export type { LegacyColumnFinding, LegacyValues, VersionFinding } from './adopt-check-data.ts';
export type {
  ChangeKind,
  Finding,
  FindingCode,
  PlannedChange,
  Problem,
  Severity,
} from './adopt-check-findings.ts';
export type { ForeignKeyFinding } from './adopt-check-tables.ts';

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

/** Each kind of object in turn; the parts merge in the order the report lists them. */
async function readAdoption(q: Q): Promise<AdoptionCheck> {
  const { rows: server } = await q.query<{ v: string }>('SELECT version() AS v');
  const { migrations, ...recorded } = await readMigrations(q);
  const state: MigrationState = { isPending: (m) => migrations.pending.includes(m) };
  const catalog = await readCatalog(
    q,
    EXPECTED_TABLES.map((t) => t.name),
  );
  const tables = checkTables(catalog, state);
  const foreignKeys = planForeignKeyDrops(catalog, state);
  const droppedChecks = planDroppedChecks(catalog, state);
  const statusCheck = await planStatusCheck(q, catalog, state);
  const indexes = await checkIndexes(q, catalog, state);
  const view = await checkTradeSourceView(q, state);
  const functions = await checkFunctions(q, state);
  const triggers = await checkTriggers(q, state);
  const effects = await planEffects(q, migrations.pending);
  const rows = await readRows(q, catalog);
  const all = mergeParts([
    recorded,
    tables,
    foreignKeys,
    droppedChecks,
    statusCheck,
    indexes,
    view,
    functions,
    triggers,
    effects,
    rows,
  ]);
  return {
    serverVersion: server[0]?.v ?? '',
    migrations,
    upToDate: migrations.pending.length === 0 && all.changes.length === 0,
    changes: all.changes,
    inPlace: all.inPlace,
    foreignKeys: foreignKeys.foreignKeys,
    versions: rows.versions,
    columns: tables.columns,
    findings: all.findings,
    triggersKept: triggers.kept,
    dependentViews: await readDependentViews(q),
    legacy: rows.legacy,
    problems: all.problems,
  };
}

/**
 * The migrations recorded and pending. node-pg-migrate checks that the recorded ones are the
 * first files of migrations/, in order, and refuses to run otherwise.
 */
async function readMigrations(q: Q): Promise<Part & { migrations: AdoptionCheck['migrations'] }> {
  const files = migrationFiles();
  const tableExists = (await relationKind(q, 'fifo_ledger_migrations')) !== null;
  const applied = tableExists
    ? (
        await q.query<{ name: string; run_on: string }>(
          `SELECT name, ${utcText('run_on')} AS run_on FROM fifo_ledger_migrations ORDER BY run_on, id`,
        )
      ).rows.map((r) => ({ name: r.name, runOn: r.run_on }))
    : [];
  const problems = applied.flatMap((m, i) =>
    files[i] === m.name
      ? []
      : [
          problem(
            'blocker',
            `fifo_ledger_migrations records "${m.name}" where migrations/ has "${files[i] ?? '(nothing)'}": migrate checks the order and would refuse`,
            'fifo_ledger_migrations',
          ),
        ],
  );
  const appliedNames = new Set(applied.map((m) => m.name));
  return {
    ...NOTHING,
    problems,
    migrations: { tableExists, applied, pending: files.filter((f) => !appliedNames.has(f)) },
  };
}

/** The rows the report counts (./adopt-check-data.ts); what it cannot read becomes a warning. */
async function readRows(
  q: Q,
  catalog: Catalog,
): Promise<Part & { versions: VersionFinding[]; legacy: LegacyValues }> {
  const problems: Problem[] = [];
  const versions = await readVersions(q, catalog, problems);
  const legacy = await readLegacyValues(q, catalog, problems);
  return { ...NOTHING, problems, versions, legacy };
}

/** The views that read fifo-ledger's tables, and the deprecated columns each reads. */
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
