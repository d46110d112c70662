/**
 * What migrations/ create, as data: every table, column, index, constraint, view, function
 * and trigger, with the migration that makes it and how that migration treats a database
 * that already has it (the bot's). `fifo adopt --check` compares the live catalog with this
 * list; test/legacy/adopt-check.test.ts proves the list matches what `migrate` builds, so a
 * migration that adds an object must add it here too.
 */

export const MIGRATIONS = {
  tradeRecords: '0001_trade-records',
  fifoTables: '0002_fifo-tables',
  changeCapture: '0003_change-capture',
  legacyArchive: '0004_legacy-archive',
} as const;

export type MigrationName = (typeof MIGRATIONS)[keyof typeof MIGRATIONS];

export interface ExpectedColumn {
  readonly name: string;
  /** As format_type() spells it. */
  readonly type: string;
  /** The migration adds it to a table that exists without it (ADD COLUMN IF NOT EXISTS). */
  readonly addedIfMissing?: boolean;
  /** fifo-ledger reads or writes it: the jobs fail without it. */
  readonly required?: boolean;
  /** A deprecated legacy column of the bot's: it may have been dropped, nothing needs it. */
  readonly deprecated?: boolean;
}

export interface ExpectedTable {
  readonly name: string;
  readonly migration: MigrationName;
  /** The bot's database may already have it (CREATE TABLE IF NOT EXISTS keeps it as it is). */
  readonly mayExist: boolean;
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

const col = (
  name: string,
  type: string,
  flags: Omit<ExpectedColumn, 'name' | 'type'> = {},
): ExpectedColumn => ({
  name,
  type,
  ...flags,
});
const VARCHAR = 'character varying';
const FLOAT8 = 'double precision';
const TSTZ = 'timestamp with time zone';

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
  {
    name: 'trade_records',
    migration: MIGRATIONS.tradeRecords,
    mayExist: true,
    columns: [
      col('order_id', VARCHAR, { required: true }),
      col('parent_id', VARCHAR, { deprecated: true }),
      col('parent_ids', `${VARCHAR}[]`, { deprecated: true }),
      col('symbol', VARCHAR, { required: true }),
      col('side', VARCHAR, { required: true }),
      col('order_time', TSTZ, { required: true }),
      col('price', FLOAT8, { required: true }),
      col('size', FLOAT8, { required: true }),
      col('pnl_usd', FLOAT8, { deprecated: true }),
      col('total_fees_usd', FLOAT8, { required: true, addedIfMissing: true }),
      col('trigger', 'jsonb'),
      col('order_type', VARCHAR),
      col('status', VARCHAR, { required: true, addedIfMissing: true }),
      col('source', VARCHAR),
      col('cost_basis_usd', FLOAT8, { deprecated: true }),
      col('sale_proceeds_usd', FLOAT8, { deprecated: true }),
      col('net_sale_proceeds_usd', FLOAT8, { deprecated: true }),
      col('remaining_size', FLOAT8, { required: true, addedIfMissing: true }),
      col('realized_profit', FLOAT8, { deprecated: true }),
      col('ingest_via', 'text'),
      col('last_reconciled_at', TSTZ),
      col('last_reconciled_via', 'text'),
    ],
  },
  {
    name: 'fifo_allocations',
    migration: MIGRATIONS.fifoTables,
    mayExist: true,
    columns: [
      col('id', 'bigint', { required: true }),
      col('sell_order_id', VARCHAR, { required: true }),
      col('buy_order_id', VARCHAR, { required: true }),
      col('symbol', VARCHAR, { required: true }),
      col('allocated_size', 'numeric', { required: true }),
      col('buy_price', 'numeric', { required: true }),
      col('sell_price', 'numeric', { required: true }),
      col('buy_fees_per_unit', 'numeric', { required: true, addedIfMissing: true }),
      col('sell_fees_per_unit', 'numeric', { required: true, addedIfMissing: true }),
      col('cost_basis_usd', 'numeric', { required: true }),
      col('proceeds_usd', 'numeric', { required: true }),
      col('net_proceeds_usd', 'numeric', { required: true, addedIfMissing: true }),
      col('pnl_usd', 'numeric', { required: true }),
      col('buy_time', TSTZ, { required: true, addedIfMissing: true }),
      col('sell_time', TSTZ, { required: true }),
      col('allocation_time', TSTZ, { required: true, addedIfMissing: true }),
      col('allocation_version', 'integer', { required: true }),
      col('allocation_batch_id', 'uuid', { required: true, addedIfMissing: true }),
      col('notes', 'text', { required: true, addedIfMissing: true }),
    ],
  },
  {
    name: 'fifo_lots',
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    columns: [
      col('allocation_version', 'integer', { required: true }),
      col('buy_order_id', VARCHAR, { required: true }),
      col('symbol', VARCHAR, { required: true }),
      col('buy_time', TSTZ, { required: true }),
      col('buy_price', 'numeric', { required: true }),
      col('buy_fees_per_unit', 'numeric', { required: true }),
      col('size', 'numeric', { required: true }),
      col('remaining_size', 'numeric', { required: true }),
      col('remaining_cost_usd', 'numeric', { required: true }),
      col('allocation_batch_id', 'uuid', { required: true }),
      col('updated_at', TSTZ, { required: true }),
    ],
  },
  {
    name: 'fifo_symbol_progress',
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    columns: [
      col('allocation_version', 'integer', { required: true }),
      col('symbol', VARCHAR, { required: true }),
      col('last_order_time', TSTZ, { required: true }),
      col('last_side', VARCHAR, { required: true }),
      col('last_order_id', VARCHAR, { required: true }),
      col('updated_at', TSTZ, { required: true }),
    ],
  },
  {
    name: 'fifo_versions',
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    columns: [
      col('allocation_version', 'integer', { required: true }),
      col('capture_changes', 'boolean', { required: true }),
      col('created_at', TSTZ, { required: true }),
      col('last_full_at', TSTZ, { required: true }),
    ],
  },
  {
    name: 'fifo_computation_log',
    migration: MIGRATIONS.fifoTables,
    mayExist: true,
    columns: [
      col('id', 'bigint', { required: true }),
      col('symbol', VARCHAR),
      col('allocation_version', 'integer', { required: true }),
      col('allocation_batch_id', 'uuid', { required: true }),
      col('computation_start', TSTZ, { required: true }),
      col('computation_end', TSTZ, { required: true }),
      col('computation_duration_ms', 'bigint', { required: true }),
      col('status', VARCHAR, { required: true }),
      col('buys_processed', 'integer', { required: true }),
      col('sells_processed', 'integer', { required: true }),
      col('allocations_created', 'integer', { required: true }),
      col('error_message', 'text', { required: true }),
      col('symbols_processed', 'integer', { required: true }),
      col('total_pnl_computed', 'numeric', { required: true }),
      col('computation_mode', VARCHAR, { required: true }),
      col('triggered_by', VARCHAR, { required: true }),
      col('created_at', TSTZ),
      col('allocations_removed', 'integer', { required: true, addedIfMissing: true }),
      col('drift_rows_added', 'integer', { required: true, addedIfMissing: true }),
      col('drift_rows_removed', 'integer', { required: true, addedIfMissing: true }),
      col('drift_rows_changed', 'integer', { required: true, addedIfMissing: true }),
      col('drift_usd', 'numeric', { required: true, addedIfMissing: true }),
      col('trades_rejected', 'integer', { required: true, addedIfMissing: true }),
      col('symbols_replayed', 'integer', { required: true, addedIfMissing: true }),
      col('changes_consumed', 'integer', { required: true, addedIfMissing: true }),
      col('dry_run', 'boolean', { required: true, addedIfMissing: true }),
      col('details', 'jsonb', { required: true, addedIfMissing: true }),
    ],
  },
  {
    name: 'fifo_rejected_trades',
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    columns: [
      col('order_id', VARCHAR, { required: true }),
      col('symbol', VARCHAR, { required: true }),
      col('reason', 'text', { required: true }),
      col('first_seen_at', TSTZ, { required: true }),
      col('last_seen_at', TSTZ, { required: true }),
    ],
  },
  {
    name: 'fifo_trade_changes',
    migration: MIGRATIONS.changeCapture,
    mayExist: false,
    columns: [
      col('change_id', 'bigint', { required: true }),
      col('allocation_version', 'integer', { required: true }),
      col('symbol', VARCHAR, { required: true }),
      col('order_time', TSTZ, { required: true }),
      col('order_id', VARCHAR, { required: true }),
      col('recorded_at', TSTZ, { required: true }),
    ],
  },
  {
    name: 'fifo_legacy_pnl_archive',
    migration: MIGRATIONS.legacyArchive,
    mayExist: false,
    columns: [
      col('order_id', VARCHAR, { required: true }),
      ...LEGACY_ARCHIVE_COLUMNS.map((c) => col(c, c === 'parent_id' ? VARCHAR : FLOAT8, { required: true })),
      col('archived_at', TSTZ, { required: true }),
      col('restored_at', TSTZ, { required: true }),
    ],
  },
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

export const TRADE_SOURCE_VIEW = { name: 'fifo_trade_source', migration: MIGRATIONS.tradeRecords } as const;

export interface ExpectedFunction {
  /** As regprocedure spells it. */
  readonly signature: string;
  readonly migration: MigrationName | string;
  readonly definition: string;
}

export const EXPECTED_FUNCTIONS: readonly ExpectedFunction[] = [
  {
    signature: 'fifo_capture_trade_changes()',
    migration: MIGRATIONS.changeCapture,
    definition: 'the change-capture trigger function (inserts and deletes)',
  },
  {
    signature: 'fifo_capture_trade_update()',
    migration: '0007_row-update-capture',
    definition: 'the row-level change-capture function for updates',
  },
  {
    signature: 'fifo_capture_trade_insert()',
    migration: '0007_row-update-capture',
    definition: 'the row-level change-capture function for inserts',
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
      kind: 'role' | 'grant' | 'function' | 'view' | 'trigger';
      name: string;
      action: 'create' | 'grant' | 'alter' | 'replace';
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
