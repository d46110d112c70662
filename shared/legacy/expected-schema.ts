/**
 * What migrations/ create, as data: every table, column, index, constraint, view, function
 * and trigger, with the migration that makes it and how that migration treats a database
 * that already has it (the bot's). `fifo adopt --check` compares the live catalog with this
 * list; test/legacy/adopt-check.test.ts proves the list matches what `migrate` builds, so a
 * migration that adds an object must add it here too. Every table's columns come from its
 * spec (shared/tables/), which test/db/column-spec.test.ts holds equal to the catalog.
 */
import { ALLOCATIONS } from '../tables/allocations.ts';
import {
  LEGACY_PNL_ARCHIVE,
  MIRROR_WRITES,
  REBUILD_PARTITIONS,
  REBUILD_RUNS,
  REJECTED_TRADES,
  SYMBOL_LOCKS,
  SYMBOL_PROGRESS,
  TRADE_CHANGES,
  VERSIONS,
} from '../tables/bookkeeping.ts';
import { COMPUTATION_LOG } from '../tables/computation-log.ts';
import { LOTS } from '../tables/lots.ts';
import {
  type InsertMode,
  MIGRATIONS,
  type MigrationName,
  type TableSpec,
  type ValueKind,
} from '../tables/spec.ts';
import { TRADE_RECORDS } from '../tables/trade-source.ts';

export { type InsertMode, MIGRATIONS, type MigrationName, type ValueKind };

export interface ExpectedColumn {
  readonly name: string;
  /** As format_type() spells it. */
  readonly type: string;
  /** The migration adds it to a table that exists without it (ADD COLUMN IF NOT EXISTS). */
  readonly addedIfMissing?: boolean;
  /** The migration that adds it, when not the table's own. */
  readonly migration?: MigrationName;
  /** fifo-ledger reads or writes it: the jobs fail without it. */
  readonly required?: boolean;
  /** A deprecated legacy column of the bot's: it may have been dropped, nothing needs it. */
  readonly deprecated?: boolean;
  /** What fifo-ledger stores in it or reads from it; absent: fifo-ledger never touches it. */
  readonly value?: ValueKind;
  /** How fifo-ledger's INSERTs fill it (tables fifo-ledger inserts into). */
  readonly insert?: InsertMode;
  /** When an insert leaves it NULL (insert 'maybe-null'), for the finding's reason. */
  readonly nullWhen?: string;
  /** The sign of what fifo-ledger writes, to judge CHECK (col > 0) and CHECK (col >= 0). */
  readonly sign?: { readonly min: 'positive' | 'nonnegative' | 'any'; readonly when?: string };
  /** Every value fifo-ledger writes, to judge CHECK (col IN (...)). */
  readonly values?: readonly string[];
  /** The default the column must have: writers that leave it out depend on it. */
  readonly needsDefault?: { readonly sql: 'sequence' | 'true' | 'false'; readonly why: string };
}

export interface ExpectedTable {
  readonly name: string;
  readonly migration: MigrationName;
  /** The bot's database may already have it (CREATE TABLE IF NOT EXISTS keeps it as it is). */
  readonly mayExist: boolean;
  /** What fifo-ledger does with it, for the report. */
  readonly role: string;
  /** fifo-ledger (or its capture trigger) inserts rows: NOT NULL, defaults and keys apply. */
  readonly inserts: boolean;
  /**
   * Each set of columns that names one of fifo-ledger's rows. A unique key holding all the
   * columns of one of them never refuses its rows; any other can.
   */
  readonly identities?: readonly (readonly string[])[];
  /** The columns of an INSERT ... ON CONFLICT (...): a unique index on exactly these must exist. */
  readonly conflictKeys?: readonly (readonly string[])[];
  /** CHECK constraints fifo-ledger's rows always satisfy, in normalizeCheck()'s form. */
  readonly safeChecks?: readonly string[];
  readonly columns: readonly ExpectedColumn[];
}

export interface ExpectedIndex {
  readonly name: string;
  readonly table: string;
  readonly migration: MigrationName;
  readonly definition: string;
  /**
   * How the migration recognises an equivalent index the bot created under another name,
   * in which case it creates none.
   */
  readonly equivalent?: 'symbol-order-time' | 'sell-buy-version-unique';
}

export interface ExpectedTrigger {
  readonly name: string;
  readonly table: string;
  readonly migration: MigrationName;
  readonly definition: string;
}

/** What the column's default is, as a writer that leaves it out depends on it. */
function defaultOf(table: TableSpec, c: TableSpec['columns'][number]): 'sequence' | 'true' | 'false' {
  if (c.default?.startsWith('nextval(')) return 'sequence';
  if (c.default === 'true' || c.default === 'false') return c.default;
  throw new Error(`${table.name}.${c.name}: writers depend on a default its spec does not give`);
}

/**
 * A spec's columns as adopt --check expects them: fifo-ledger needs the columns it touches;
 * in a table it inserts into, it leaves out those it neither takes from a row or a run nor
 * inserts explicitly.
 */
function expectedColumns(table: TableSpec, inserts: boolean): ExpectedColumn[] {
  return table.columns.map((c) => {
    const expected: { -readonly [K in keyof ExpectedColumn]: ExpectedColumn[K] } = {
      name: c.name,
      type: c.type,
    };
    if (c.addedIfMissing) expected.addedIfMissing = true;
    if (c.migration) expected.migration = c.migration;
    if (c.kind) expected.required = true;
    if (c.deprecated) expected.deprecated = true;
    if (c.kind) expected.value = c.kind;
    if (inserts && c.kind) {
      expected.insert = c.insert ?? (c.from ? (c.nullWhen ? 'maybe-null' : 'always') : 'omitted');
    }
    if (c.nullWhen) expected.nullWhen = c.nullWhen;
    if (c.sign) expected.sign = c.sign;
    if (c.values) expected.values = c.values;
    if (c.needsDefault) expected.needsDefault = { sql: defaultOf(table, c), why: c.needsDefault };
    return expected;
  });
}

/** A table as adopt --check expects it: its spec's columns, judged as the table is used. */
const expectedTable = (spec: TableSpec, table: Omit<ExpectedTable, 'name' | 'columns'>): ExpectedTable => ({
  name: spec.name,
  ...table,
  columns: expectedColumns(spec, table.inserts),
});

/** The deprecated PnL columns `fifo legacy archive` moves, in the archive's column order. */
export const LEGACY_ARCHIVE_COLUMNS = [
  'realized_profit',
  'pnl_usd',
  'cost_basis_usd',
  'sale_proceeds_usd',
  'net_sale_proceeds_usd',
  'parent_id',
] as const;
export type LegacyArchiveColumn = (typeof LEGACY_ARCHIVE_COLUMNS)[number];

export const EXPECTED_TABLES: readonly ExpectedTable[] = [
  expectedTable(TRADE_RECORDS, {
    migration: MIGRATIONS.tradeRecords,
    mayExist: true,
    role: "the bot's: fifo-ledger reads it through fifo_trade_source and writes only remaining_size",
    inserts: false,
  }),
  expectedTable(ALLOCATIONS, {
    migration: MIGRATIONS.fifoTables,
    mayExist: true,
    role: "shared with the bot's FIFO script and reports: fifo-ledger writes its own versions",
    inserts: true,
    identities: [['id'], ['sell_order_id', 'buy_order_id', 'allocation_version']],
    safeChecks: [
      'buy_order_id is not null or notes is not null',
      'buy_time is null or buy_time <= sell_time',
      'buy_time <= sell_time',
    ],
  }),
  expectedTable(LOTS, {
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    role: "fifo-ledger's: every buy's lot per version",
    inserts: true,
    identities: [['allocation_version', 'buy_order_id']],
    conflictKeys: [['allocation_version', 'buy_order_id']],
  }),
  expectedTable(SYMBOL_PROGRESS, {
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    role: "fifo-ledger's: how far each symbol's allocations reach",
    inserts: true,
    identities: [['allocation_version', 'symbol']],
    conflictKeys: [['allocation_version', 'symbol']],
  }),
  expectedTable(VERSIONS, {
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    role: "fifo-ledger's: the versions it builds, which change capture records changes for",
    inserts: true,
    identities: [['allocation_version']],
    conflictKeys: [['allocation_version']],
  }),
  expectedTable(COMPUTATION_LOG, {
    migration: MIGRATIONS.fifoTables,
    mayExist: true,
    role: "shared with the bot's FIFO script: fifo-ledger writes one row per run",
    inserts: true,
    identities: [['id'], ['allocation_batch_id']],
  }),
  expectedTable(REJECTED_TRADES, {
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    role: "fifo-ledger's: the trades it cannot use, with the reason",
    inserts: true,
    identities: [['order_id']],
    conflictKeys: [['order_id']],
  }),
  expectedTable(TRADE_CHANGES, {
    migration: MIGRATIONS.changeCapture,
    mayExist: false,
    role: "fifo-ledger's: the trade changes its triggers capture, in the bot's own sessions",
    inserts: true,
    identities: [['change_id']],
  }),
  expectedTable(LEGACY_PNL_ARCHIVE, {
    migration: MIGRATIONS.legacyArchive,
    mayExist: false,
    role: "fifo-ledger's: the legacy PnL values `fifo legacy archive` moved",
    inserts: true,
    identities: [['order_id']],
    conflictKeys: [['order_id']],
  }),
  expectedTable(MIRROR_WRITES, {
    migration: MIGRATIONS.botCoexistence,
    mayExist: false,
    role: "fifo-ledger's: buys whose remaining_size another program rewrote",
    inserts: true,
    identities: [['order_id']],
  }),
  expectedTable(REBUILD_RUNS, {
    migration: MIGRATIONS.partitionedRebuild,
    mayExist: false,
    role: "fifo-ledger's: the partitioned full rebuilds, planned and finished",
    inserts: true,
    identities: [['run_id']],
  }),
  expectedTable(REBUILD_PARTITIONS, {
    migration: MIGRATIONS.partitionedRebuild,
    mayExist: false,
    role: "fifo-ledger's: each partition of a partitioned rebuild, its lease and its figures",
    inserts: true,
    identities: [['run_id', 'partition']],
  }),
  expectedTable(SYMBOL_LOCKS, {
    migration: MIGRATIONS.partitionedRebuild,
    mayExist: false,
    role: "fifo-ledger's: one row per symbol, locked by the transaction that writes the symbol",
    inserts: true,
    identities: [['allocation_version', 'symbol']],
    conflictKeys: [['allocation_version', 'symbol']],
  }),
];

export const EXPECTED_INDEXES: readonly ExpectedIndex[] = [
  {
    name: 'trade_records_symbol_order_time_idx',
    table: 'trade_records',
    migration: MIGRATIONS.tradeRecords,
    definition: '(symbol, order_time)',
    equivalent: 'symbol-order-time',
  },
  {
    name: 'fifo_allocations_sell_buy_version_key',
    table: 'fifo_allocations',
    migration: MIGRATIONS.fifoTables,
    definition: "UNIQUE (sell_order_id, COALESCE(buy_order_id, ''), allocation_version)",
    equivalent: 'sell-buy-version-unique',
  },
  {
    name: 'fifo_allocations_version_symbol_sell_idx',
    table: 'fifo_allocations',
    migration: MIGRATIONS.fifoTables,
    definition: '(allocation_version, symbol, sell_time, sell_order_id COLLATE "C")',
  },
  {
    name: 'fifo_allocations_version_sell_time_idx',
    table: 'fifo_allocations',
    migration: MIGRATIONS.fifoTables,
    definition: '(allocation_version, sell_time)',
  },
  {
    name: 'fifo_lots_version_symbol_time_idx',
    table: 'fifo_lots',
    migration: MIGRATIONS.fifoTables,
    definition: '(allocation_version, symbol, buy_time, buy_order_id COLLATE "C")',
  },
  {
    name: 'fifo_lots_open_idx',
    table: 'fifo_lots',
    migration: MIGRATIONS.fifoTables,
    definition: '(allocation_version, symbol, buy_time, buy_order_id COLLATE "C") WHERE remaining_size > 0',
  },
  {
    name: 'fifo_computation_log_version_mode_idx',
    table: 'fifo_computation_log',
    migration: MIGRATIONS.fifoTables,
    definition: '(allocation_version, computation_mode, computation_start DESC)',
  },
  {
    name: 'fifo_rebuild_runs_open_idx',
    table: 'fifo_rebuild_runs',
    migration: MIGRATIONS.partitionedRebuild,
    definition: "(allocation_version) WHERE status = 'open'",
  },
  {
    name: 'fifo_computation_log_ledger_runs_idx',
    table: 'fifo_computation_log',
    migration: MIGRATIONS.botCoexistence,
    definition: '(allocation_version, computation_mode, computation_start DESC) WHERE fifo_ledger_run',
  },
  {
    name: 'fifo_trade_changes_version_symbol_idx',
    table: 'fifo_trade_changes',
    migration: MIGRATIONS.changeCapture,
    definition: '(allocation_version, symbol)',
  },
  {
    name: 'fifo_trade_changes_version_recorded_idx',
    table: 'fifo_trade_changes',
    migration: MIGRATIONS.changeCapture,
    definition: '(allocation_version, recorded_at)',
  },
];

/** The computation log's status check: 0002 replaces any check on status with this one. */
export const STATUS_CHECK = {
  name: 'fifo_computation_log_status_check',
  table: 'fifo_computation_log',
  migration: MIGRATIONS.fifoTables,
  statuses: ['running', 'completed', 'failed', 'partial', 'skipped'],
} as const;

/**
 * A CHECK constraint a migration drops (or replaces) when it finds it, as the migration
 * recognises it: `matches` takes pg_get_constraintdef()'s text.
 */
export interface DroppedCheck {
  readonly table: string;
  readonly migration: MigrationName;
  /** replace: the migration adds its own in its place (STATUS_CHECK). */
  readonly action: 'drop' | 'replace';
  readonly matches: (definition: string) => boolean;
  /** What the migration does and why, for the report. */
  readonly detail: string;
}

export const DROPPED_CHECKS: readonly DroppedCheck[] = [
  {
    table: STATUS_CHECK.table,
    migration: STATUS_CHECK.migration,
    action: 'replace',
    // 0002: pg_get_constraintdef(oid) ILIKE '%status%'
    matches: (definition) => /status/i.test(definition),
    detail: `replaces it with CHECK (status IN (${STATUS_CHECK.statuses.join(', ')})): a run that finds the lock held logs 'skipped'`,
  },
  {
    table: 'fifo_allocations',
    migration: MIGRATIONS.botCoexistence,
    action: 'drop',
    // 0008: the same regular expression.
    matches: (definition) => /^CHECK \(\(net_proceeds_usd >= \(?0\)?(::numeric)?\)\)$/i.test(definition),
    detail: 'drops it: net proceeds are negative when the fee exceeds the gross proceeds (FIFO rule 3)',
  },
];

export const TRADE_SOURCE_VIEW = { name: 'fifo_trade_source', migration: MIGRATIONS.tradeRecords } as const;

export interface ExpectedFunction {
  /** As regprocedure spells it. */
  readonly signature: string;
  readonly migration: MigrationName;
  readonly definition: string;
}

export const EXPECTED_FUNCTIONS: readonly ExpectedFunction[] = [
  {
    signature: 'fifo_capture_trade_delete()',
    migration: MIGRATIONS.security,
    definition:
      'the statement-level change-capture function for deletes (replaces fifo_capture_trade_changes)',
  },
  {
    signature: 'fifo_capture_trade_update()',
    migration: MIGRATIONS.rowUpdateCapture,
    definition: 'the row-level change-capture function for updates',
  },
  {
    signature: 'fifo_capture_trade_insert()',
    migration: MIGRATIONS.rowUpdateCapture,
    definition: 'the row-level change-capture function for inserts',
  },
  {
    signature: 'fifo_note_mirror_write()',
    migration: MIGRATIONS.botCoexistence,
    definition: 'notes in fifo_mirror_writes a buy whose remaining_size another program rewrote',
  },
];

export const EXPECTED_TRIGGERS: readonly ExpectedTrigger[] = [
  {
    name: 'fifo_capture_insert',
    table: 'trade_records',
    migration: MIGRATIONS.changeCapture,
    definition: 'AFTER INSERT, per row: records new trades in fifo_trade_changes',
  },
  {
    name: 'fifo_capture_update',
    table: 'trade_records',
    migration: MIGRATIONS.changeCapture,
    definition: 'AFTER UPDATE, per row when a column FIFO reads changed: records the old and new symbol/time',
  },
  {
    name: 'fifo_capture_delete',
    table: 'trade_records',
    migration: MIGRATIONS.changeCapture,
    definition: 'AFTER DELETE, per statement: records deleted (cancelled) trades in fifo_trade_changes',
  },
  {
    name: 'fifo_note_mirror_write',
    table: 'trade_records',
    migration: MIGRATIONS.botCoexistence,
    definition:
      'AFTER UPDATE OF remaining_size, per row, unless fifo-ledger is writing it: notes the buy in fifo_mirror_writes',
  },
];

/**
 * What the migrations that create none of the objects above do, as `adopt --check` lists it
 * when they are pending. Every file in migrations/ is either the `migration` of an object
 * above or a key here (a test checks it).
 */
export const MIGRATION_EFFECTS: Readonly<
  Record<
    string,
    readonly {
      kind: 'role' | 'grant' | 'function' | 'view' | 'trigger' | 'column';
      name: string;
      action: 'create' | 'grant' | 'alter' | 'replace' | 'drop';
      detail: string;
    }[]
  >
> = {
  '0005_job-role': [
    {
      kind: 'role',
      name: 'fifo_ledger_writer',
      action: 'create',
      detail: "NOLOGIN role the jobs run as (created when missing; grant it to the functions' login role)",
    },
    {
      kind: 'grant',
      name: 'fifo_ledger_writer',
      action: 'grant',
      detail:
        'SELECT on trade_records and fifo_trade_source, UPDATE (remaining_size) on trade_records, ' +
        "read and write on the jobs' fifo_* tables and the schema's sequences",
    },
    {
      kind: 'function',
      name: 'fifo_capture_trade_changes()',
      action: 'alter',
      detail: "SECURITY DEFINER with search_path public, pg_temp (capture runs in the bot's sessions)",
    },
  ],
  '0007_row-update-capture': [
    {
      kind: 'trigger',
      name: 'trade_records.fifo_capture_update',
      action: 'replace',
      detail:
        'row-level, with a WHEN clause on the columns FIFO reads: updates that change none of them cost nothing',
    },
    {
      kind: 'trigger',
      name: 'trade_records.fifo_capture_insert',
      action: 'replace',
      detail: 'row-level: a single-row insert costs less, and an upsert that updates fires no insert trigger',
    },
  ],
  '0008_bot-coexistence': [
    {
      kind: 'column',
      name: 'fifo_computation_log.fifo_ledger_run',
      action: 'alter',
      detail:
        'set true on the rows an earlier fifo-ledger logged (triggered_by cli, demo, schedule ... or lambda ... ' +
        "on a version in fifo_versions); the rows of the bot's FIFO script stay false",
    },
    {
      kind: 'grant',
      name: 'fifo_ledger_writer',
      action: 'grant',
      detail: 'read and write on fifo_mirror_writes (when the role exists)',
    },
  ],
  '0009_security': [
    {
      kind: 'role',
      name: 'fifo_ledger_capture',
      action: 'create',
      detail:
        'NOLOGIN role that owns the capture functions: it may only insert into fifo_trade_changes and ' +
        'fifo_mirror_writes and read fifo_versions (the migration owner is made a member, to hand them over)',
    },
    {
      kind: 'function',
      name: 'fifo_capture_trade_insert(), fifo_capture_trade_update(), fifo_note_mirror_write()',
      action: 'alter',
      detail:
        'owned by fifo_ledger_capture, search_path pg_catalog, pg_temp with qualified names, no EXECUTE for PUBLIC',
    },
    {
      kind: 'function',
      name: 'fifo_capture_trade_changes()',
      action: 'drop',
      detail:
        'its INSERT and UPDATE branches were dead since 0007 and its fifo.suppress_capture switch let any ' +
        'session hide its writes; fifo_capture_trade_delete() replaces it',
    },
    {
      kind: 'trigger',
      name: 'trade_records.fifo_capture_delete',
      action: 'replace',
      detail: 'executes fifo_capture_trade_delete()',
    },
    {
      kind: 'grant',
      name: 'fifo_ledger_writer',
      action: 'alter',
      detail:
        'USAGE only on the sequences of the rows the jobs insert (no longer every sequence), no DELETE on the run log',
    },
    {
      kind: 'role',
      name: 'fifo_ledger_reader',
      action: 'create',
      detail:
        "NOLOGIN role the report runs as: SELECT on trade_records, fifo_trade_source and fifo-ledger's tables",
    },
  ],
  '0010_partitioned-rebuild': [
    {
      kind: 'grant',
      name: 'fifo_ledger_writer, fifo_ledger_reader',
      action: 'grant',
      detail:
        'read and write on fifo_rebuild_runs, fifo_rebuild_partitions and fifo_symbol_locks for the jobs, read on ' +
        'the runs and partitions for the report (when the roles exist)',
    },
  ],
  '0006_fill-rows': [
    {
      kind: 'view',
      name: 'fifo_trade_source',
      action: 'replace',
      detail: 'fill rows (<uuid>-FILL-<n>) are left out of the trade source; the order row counts',
    },
  ],
};

/** What replaces the bot's ON DELETE CASCADE keys from fifo_allocations to trade_records. */
export const FOREIGN_KEY_REPLACEMENT =
  'dropped by 0002: a deleted (cancelled) trade is recorded by change capture (trigger fifo_capture_delete ' +
  'writes it to fifo_trade_changes) and the next incremental run removes its allocations and gives their ' +
  'slices back to the lots they came from, instead of the rows vanishing silently';
