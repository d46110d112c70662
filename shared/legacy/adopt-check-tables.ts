/**
 * The tables' part of `fifo adopt --check`: every table fifo-ledger reads or writes against
 * what it needs (./adopt-check-columns.ts, ./adopt-check-constraints.ts), and what the pending
 * migrations do to them: the tables and columns they add, the bot's foreign keys and checks they
 * drop, the log's status check they replace, the indexes they create. One function per kind,
 * each returning its part of the check.
 */
import type pg from 'pg';
import type { Catalog } from './adopt-check-catalog.ts';
import { compareColumns, type TableColumns } from './adopt-check-columns.ts';
import {
  compareChecks,
  compareForeignKeys,
  compareKeys,
  findExpectedIndex,
} from './adopt-check-constraints.ts';
import { duplicateAllocationKeys, refusedStatuses } from './adopt-check-data.ts';
import {
  drift,
  fromFindings,
  type MigrationState,
  mergeParts,
  NOTHING,
  type Part,
  type PlannedChange,
  type Problem,
  planMissing,
  problem,
} from './adopt-check-findings.ts';
import {
  DROPPED_CHECKS,
  EXPECTED_INDEXES,
  EXPECTED_TABLES,
  type ExpectedIndex,
  type ExpectedTable,
  FOREIGN_KEY_REPLACEMENT,
  MIGRATIONS,
  STATUS_CHECK,
} from './expected-schema.ts';

type Q = pg.ClientBase;

/** Every table fifo-ledger reads or writes: its columns, checks and keys. */
export function checkTables(catalog: Catalog, state: MigrationState): Part & { columns: TableColumns[] } {
  const ourTables = new Set(EXPECTED_TABLES.map((t) => t.name));
  const tables = EXPECTED_TABLES.map((table) => checkTable(table, catalog, state, ourTables));
  return { ...mergeParts(tables), columns: tables.map((t) => t.columns) };
}

function checkTable(
  table: ExpectedTable,
  catalog: Catalog,
  state: MigrationState,
  ourTables: ReadonlySet<string>,
): Part & { columns: TableColumns } {
  const live = catalog.tables.get(table.name)!;
  if (live.kind !== null && live.kind !== 'r' && live.kind !== 'p') {
    // Its columns and keys mean nothing until it is a table: one line says it all.
    return {
      ...fromFindings([
        {
          table: table.name,
          column: null,
          object: null,
          severity: 'blocker',
          code: 'table',
          message: `${table.name} exists but is not a table (relkind ${live.kind}): migrate cannot adopt it; rename it or drop it`,
        },
      ]),
      inPlace: 1,
      columns: compareColumns(table, { ...live, kind: null }, state).summary,
    };
  }
  const presence = live.kind === null ? missingTable(table, state) : { ...NOTHING, inPlace: 1 };
  const { findings, summary } = compareColumns(table, live, state);
  const added = summary.addedByMigrate.map((name): PlannedChange => {
    const column = table.columns.find((c) => c.name === name)!;
    return {
      kind: 'column',
      name: `${table.name}.${name}`,
      action: 'add',
      migration: column.migration ?? table.migration,
      detail: column.type,
    };
  });
  return {
    ...mergeParts([
      presence,
      { ...NOTHING, changes: added },
      fromFindings(findings),
      fromFindings(compareChecks(table, catalog.checks, state)),
      fromFindings(compareKeys(table, live, catalog.indexes, state)),
      fromFindings(compareForeignKeys(table, catalog.foreignKeys, ourTables)),
    ]),
    columns: summary,
  };
}

/** A table that is not there: migrate creates it, unless its migration is already applied. */
function missingTable(table: ExpectedTable, state: MigrationState): Part {
  const pending = state.isPending(table.migration);
  const found = fromFindings([
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
  if (!pending) return found;
  const change: PlannedChange = {
    kind: 'table',
    name: table.name,
    action: 'create',
    migration: table.migration,
    detail: `${table.columns.length} columns${table.name === 'trade_records' ? ", the bot's columns (the deprecated ones included)" : ''}`,
  };
  return { ...found, changes: [change] };
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

const DELETE_ACTIONS: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/** The bot's keys from fifo_allocations to trade_records, which 0002 drops. */
export function planForeignKeyDrops(
  catalog: Catalog,
  state: MigrationState,
): Part & { foreignKeys: ForeignKeyFinding[] } {
  const foreignKeys = catalog.foreignKeys
    .filter((c) => c.table === 'fifo_allocations' && c.refTable === 'trade_records')
    .map((c) => ({
      name: c.name,
      columns: c.columns,
      references: `trade_records(${c.definition.match(/REFERENCES\s+\S+?\(([^)]*)\)/i)?.[1] ?? 'order_id'})`,
      onDelete: DELETE_ACTIONS[c.onDelete] ?? c.onDelete,
      replacement: FOREIGN_KEY_REPLACEMENT,
    }));
  if (!state.isPending(MIGRATIONS.fifoTables)) {
    return {
      ...NOTHING,
      foreignKeys,
      problems: foreignKeys.map((fk) =>
        problem(
          'warning',
          `fifo_allocations.${fk.name} references trade_records (ON DELETE ${fk.onDelete}) although 0002 was applied: a deleted trade would ${fk.onDelete === 'CASCADE' ? 'silently delete its allocations' : 'be refused'}; drop it`,
          'fifo_allocations',
        ),
      ),
    };
  }
  return {
    ...NOTHING,
    foreignKeys,
    changes: foreignKeys.map((fk) => ({
      kind: 'foreign key',
      name: `fifo_allocations.${fk.name}`,
      action: 'drop',
      migration: MIGRATIONS.fifoTables,
      detail: `(${fk.columns.join(', ')}) -> ${fk.references} ON DELETE ${fk.onDelete}; replaced by change capture`,
    })),
  };
}

/** The bot's checks that a pending migration drops. */
export function planDroppedChecks(catalog: Catalog, state: MigrationState): Part {
  const changes = DROPPED_CHECKS.filter((d) => d.action === 'drop' && state.isPending(d.migration)).flatMap(
    (dropped) =>
      catalog.checks
        .filter((c) => c.table === dropped.table && dropped.matches(c.definition))
        .map(
          (check): PlannedChange => ({
            kind: 'constraint',
            name: `${dropped.table}.${check.name}`,
            action: 'drop',
            migration: dropped.migration,
            detail: `${check.definition}: ${dropped.detail}`,
          }),
        ),
  );
  return { ...NOTHING, changes };
}

/** The log's status check, which 0002 replaces, and the rows it would refuse. */
export async function planStatusCheck(q: Q, catalog: Catalog, state: MigrationState): Promise<Part> {
  if ((catalog.tables.get(STATUS_CHECK.table)?.kind ?? null) === null) return NOTHING;
  const statusChecks = catalog.checks.filter(
    (c) => c.table === STATUS_CHECK.table && /status/i.test(c.definition),
  );
  if (!state.isPending(STATUS_CHECK.migration)) {
    if (statusChecks.some((c) => c.name === STATUS_CHECK.name)) return { ...NOTHING, inPlace: 1 };
    return {
      ...NOTHING,
      problems: [drift(`constraint ${STATUS_CHECK.table}.${STATUS_CHECK.name}`, STATUS_CHECK.migration)],
    };
  }
  const change: PlannedChange = {
    kind: 'constraint',
    name: `${STATUS_CHECK.table}.${STATUS_CHECK.name}`,
    action: statusChecks.length > 0 ? 'replace' : 'add',
    migration: STATUS_CHECK.migration,
    detail:
      `CHECK (status IN (${STATUS_CHECK.statuses.join(', ')}))` +
      (statusChecks.length > 0
        ? `, replacing ${statusChecks.map((c) => `${c.name} ${c.definition}`).join('; ')}`
        : ''),
  };
  const problems: Problem[] = [];
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
  return { ...NOTHING, changes: [change], problems };
}

/** The indexes the migrations create, and the duplicate keys that would make the unique one fail. */
export async function checkIndexes(q: Q, catalog: Catalog, state: MigrationState): Promise<Part> {
  const parts: Part[] = [];
  for (const expected of EXPECTED_INDEXES) parts.push(await checkIndex(q, expected, catalog, state));
  return mergeParts(parts);
}

async function checkIndex(
  q: Q,
  expected: ExpectedIndex,
  catalog: Catalog,
  state: MigrationState,
): Promise<Part> {
  if (findExpectedIndex(expected, catalog.indexes)) return { ...NOTHING, inPlace: 1 };
  const tableIsNew = catalog.tables.get(expected.table)?.kind === null;
  const planned = planMissing(
    {
      kind: 'index',
      name: expected.name,
      action: 'create',
      migration: expected.migration,
      detail: `ON ${expected.table} ${expected.definition}${tableIsNew ? ' (with the new table)' : ''}`,
    },
    state,
  );
  // Only rows already there can break the unique index: the bot's table, while migrate has it to create.
  if (
    expected.equivalent !== 'sell-buy-version-unique' ||
    tableIsNew ||
    !state.isPending(expected.migration)
  ) {
    return planned;
  }
  const problems: Problem[] = [];
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
  return mergeParts([planned, { ...NOTHING, problems }]);
}
