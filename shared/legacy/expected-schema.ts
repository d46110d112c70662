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
  jobRole: '0005_job-role',
  fillRows: '0006_fill-rows',
  rowUpdateCapture: '0007_row-update-capture',
  botCoexistence: '0008_bot-coexistence',
  security: '0009_security',
  partitionedRebuild: '0010_partitioned-rebuild',
} as const;

export type MigrationName = (typeof MIGRATIONS)[keyof typeof MIGRATIONS];

/**
 * What fifo-ledger puts in a column, or reads from it; it decides which column types work
 * (./adopt-check-columns.ts judges them).
 * - usd, quantity, per-unit: exact decimals with up to 8, 30 and 18 decimal places
 *   (shared/fifo/decimal.ts), written as text and read back with trim_scale()
 * - time: a UTC instant; text: a string; integer: a whole number (versions, ids);
 *   count: any number (counters, durations); uuid, boolean, jsonb: as named
 * - symbols: fifo_computation_log.symbols_processed, written as the column takes it
 *   (shared/db/run-log.ts): the list of symbols, their count or a comma list
 * - trade-number: a trade's float8 value, read through fifo_trade_source as text
 * - mirror: trade_records.remaining_size, written as double precision
 * - float8: a legacy PnL value, kept bit for bit by the archive
 */
export type ValueKind =
  | 'usd'
  | 'quantity'
  | 'per-unit'
  | 'time'
  | 'text'
  | 'integer'
  | 'count'
  | 'uuid'
  | 'boolean'
  | 'jsonb'
  | 'symbols'
  | 'trade-number'
  | 'mirror'
  | 'float8';

/**
 * How fifo-ledger's INSERTs fill a column: on every row with a value, with NULL on some
 * rows, or never (the column's default, else NULL).
 */
export type InsertMode = 'always' | 'maybe-null' | 'omitted';

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

const UNMATCHED = 'on the unmatched row of a sell larger than its open lots';
const RUNNING = "while the run is 'running'";
const POSITIVE = { min: 'positive' } as const;
const COUNT = { min: 'nonnegative', when: '0 when there was nothing to count' } as const;
const SERIAL = { sql: 'sequence', why: 'fifo-ledger never writes it' } as const;

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
    role: "the bot's: fifo-ledger reads it through fifo_trade_source and writes only remaining_size",
    inserts: false,
    columns: [
      col('order_id', VARCHAR, { required: true, value: 'text' }),
      col('parent_id', VARCHAR, { deprecated: true }),
      col('parent_ids', `${VARCHAR}[]`, { deprecated: true }),
      col('symbol', VARCHAR, { required: true, value: 'text' }),
      col('side', VARCHAR, { required: true, value: 'text' }),
      col('order_time', TSTZ, { required: true, value: 'time' }),
      col('price', FLOAT8, { required: true, value: 'trade-number' }),
      col('size', FLOAT8, { required: true, value: 'trade-number' }),
      col('pnl_usd', FLOAT8, { deprecated: true }),
      col('total_fees_usd', FLOAT8, { required: true, addedIfMissing: true, value: 'trade-number' }),
      col('trigger', 'jsonb'),
      col('order_type', VARCHAR),
      col('status', VARCHAR, { required: true, addedIfMissing: true, value: 'text' }),
      col('source', VARCHAR),
      col('cost_basis_usd', FLOAT8, { deprecated: true }),
      col('sale_proceeds_usd', FLOAT8, { deprecated: true }),
      col('net_sale_proceeds_usd', FLOAT8, { deprecated: true }),
      col('remaining_size', FLOAT8, {
        required: true,
        addedIfMissing: true,
        value: 'mirror',
        sign: { min: 'nonnegative', when: '0 once a lot is consumed' },
      }),
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
    role: "shared with the bot's FIFO script and reports: fifo-ledger writes its own versions",
    inserts: true,
    identities: [['id'], ['sell_order_id', 'buy_order_id', 'allocation_version']],
    safeChecks: [
      'buy_order_id is not null or notes is not null',
      'buy_time is null or buy_time <= sell_time',
      'buy_time <= sell_time',
    ],
    columns: [
      col('id', 'bigint', { required: true, value: 'integer', insert: 'omitted', needsDefault: SERIAL }),
      col('sell_order_id', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('buy_order_id', VARCHAR, {
        required: true,
        value: 'text',
        insert: 'maybe-null',
        nullWhen: UNMATCHED,
      }),
      col('symbol', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('allocated_size', 'numeric', {
        required: true,
        value: 'quantity',
        insert: 'always',
        sign: POSITIVE,
      }),
      col('buy_price', 'numeric', {
        required: true,
        value: 'quantity',
        insert: 'maybe-null',
        nullWhen: UNMATCHED,
        sign: POSITIVE,
      }),
      col('sell_price', 'numeric', { required: true, value: 'quantity', insert: 'always', sign: POSITIVE }),
      col('buy_fees_per_unit', 'numeric', {
        required: true,
        addedIfMissing: true,
        value: 'per-unit',
        insert: 'maybe-null',
        nullWhen: UNMATCHED,
        sign: { min: 'nonnegative', when: '0 when the buy paid no fee' },
      }),
      col('sell_fees_per_unit', 'numeric', {
        required: true,
        addedIfMissing: true,
        value: 'per-unit',
        insert: 'always',
        sign: { min: 'nonnegative', when: '0 when the sell paid no fee' },
      }),
      col('cost_basis_usd', 'numeric', {
        required: true,
        value: 'usd',
        insert: 'maybe-null',
        nullWhen: UNMATCHED,
        sign: {
          min: 'nonnegative',
          when: '0 when a slice costs less than half a hundred-millionth of a dollar',
        },
      }),
      col('proceeds_usd', 'numeric', {
        required: true,
        value: 'usd',
        insert: 'always',
        sign: {
          min: 'nonnegative',
          when: '0 when a slice is worth less than half a hundred-millionth of a dollar',
        },
      }),
      col('net_proceeds_usd', 'numeric', {
        required: true,
        addedIfMissing: true,
        value: 'usd',
        insert: 'always',
        sign: { min: 'any', when: 'negative when the fee exceeds the gross proceeds' },
      }),
      col('pnl_usd', 'numeric', {
        required: true,
        value: 'usd',
        insert: 'maybe-null',
        nullWhen: UNMATCHED,
        sign: { min: 'any', when: 'negative on a loss' },
      }),
      col('buy_time', TSTZ, {
        required: true,
        addedIfMissing: true,
        value: 'time',
        insert: 'maybe-null',
        nullWhen: UNMATCHED,
      }),
      col('sell_time', TSTZ, { required: true, value: 'time', insert: 'always' }),
      col('allocation_time', TSTZ, {
        required: true,
        addedIfMissing: true,
        value: 'time',
        insert: 'omitted',
      }),
      col('allocation_version', 'integer', { required: true, value: 'integer', insert: 'always' }),
      col('allocation_batch_id', 'uuid', {
        required: true,
        addedIfMissing: true,
        value: 'uuid',
        insert: 'always',
      }),
      col('notes', 'text', {
        required: true,
        addedIfMissing: true,
        value: 'text',
        insert: 'maybe-null',
        nullWhen: 'on every matched slice',
      }),
    ],
  },
  {
    name: 'fifo_lots',
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    role: "fifo-ledger's: every buy's lot per version",
    inserts: true,
    identities: [['allocation_version', 'buy_order_id']],
    conflictKeys: [['allocation_version', 'buy_order_id']],
    columns: [
      col('allocation_version', 'integer', { required: true, value: 'integer', insert: 'always' }),
      col('buy_order_id', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('symbol', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('buy_time', TSTZ, { required: true, value: 'time', insert: 'always' }),
      col('buy_price', 'numeric', { required: true, value: 'quantity', insert: 'always', sign: POSITIVE }),
      col('buy_fees_per_unit', 'numeric', {
        required: true,
        value: 'per-unit',
        insert: 'always',
        sign: { min: 'nonnegative', when: '0 when the buy paid no fee' },
      }),
      col('size', 'numeric', { required: true, value: 'quantity', insert: 'always', sign: POSITIVE }),
      col('remaining_size', 'numeric', {
        required: true,
        value: 'quantity',
        insert: 'always',
        sign: { min: 'nonnegative', when: '0 once the lot is consumed' },
      }),
      col('remaining_cost_usd', 'numeric', {
        required: true,
        value: 'usd',
        insert: 'always',
        sign: { min: 'nonnegative', when: '0 once the lot is consumed' },
      }),
      col('allocation_batch_id', 'uuid', { required: true, value: 'uuid', insert: 'always' }),
      col('updated_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
    ],
  },
  {
    name: 'fifo_symbol_progress',
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    role: "fifo-ledger's: how far each symbol's allocations reach",
    inserts: true,
    identities: [['allocation_version', 'symbol']],
    conflictKeys: [['allocation_version', 'symbol']],
    columns: [
      col('allocation_version', 'integer', { required: true, value: 'integer', insert: 'always' }),
      col('symbol', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('last_order_time', TSTZ, { required: true, value: 'time', insert: 'always' }),
      col('last_side', VARCHAR, { required: true, value: 'text', insert: 'always', values: ['buy', 'sell'] }),
      col('last_order_id', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('updated_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
    ],
  },
  {
    name: 'fifo_versions',
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    role: "fifo-ledger's: the versions it builds, which change capture records changes for",
    inserts: true,
    identities: [['allocation_version']],
    conflictKeys: [['allocation_version']],
    columns: [
      col('allocation_version', 'integer', { required: true, value: 'integer', insert: 'always' }),
      col('capture_changes', 'boolean', {
        required: true,
        value: 'boolean',
        insert: 'omitted',
        needsDefault: {
          sql: 'true',
          why: 'a version is registered without it and must have its changes captured',
        },
      }),
      col('created_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
      col('last_full_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
    ],
  },
  {
    name: 'fifo_computation_log',
    migration: MIGRATIONS.fifoTables,
    mayExist: true,
    role: "shared with the bot's FIFO script: fifo-ledger writes one row per run",
    inserts: true,
    identities: [['id'], ['allocation_batch_id']],
    columns: [
      col('id', 'bigint', { required: true, value: 'integer', insert: 'omitted', needsDefault: SERIAL }),
      col('symbol', VARCHAR),
      col('allocation_version', 'integer', { required: true, value: 'integer', insert: 'always' }),
      col('allocation_batch_id', 'uuid', { required: true, value: 'uuid', insert: 'always' }),
      col('computation_start', TSTZ, { required: true, value: 'time', insert: 'always' }),
      col('computation_end', TSTZ, {
        required: true,
        value: 'time',
        insert: 'maybe-null',
        nullWhen: RUNNING,
      }),
      col('computation_duration_ms', 'bigint', {
        required: true,
        value: 'count',
        insert: 'maybe-null',
        nullWhen: RUNNING,
        sign: COUNT,
      }),
      col('status', VARCHAR, {
        required: true,
        value: 'text',
        insert: 'always',
        values: ['running', 'completed', 'failed', 'skipped'],
      }),
      col('buys_processed', 'integer', { required: true, value: 'count', insert: 'omitted', sign: COUNT }),
      col('sells_processed', 'integer', { required: true, value: 'count', insert: 'omitted', sign: COUNT }),
      col('allocations_created', 'integer', {
        required: true,
        value: 'count',
        insert: 'omitted',
        sign: COUNT,
      }),
      col('error_message', 'text', {
        required: true,
        value: 'text',
        insert: 'maybe-null',
        nullWhen: 'on every run that did not fail',
      }),
      col('symbols_processed', 'integer', { required: true, value: 'symbols', insert: 'omitted' }),
      col('total_pnl_computed', 'numeric', {
        required: true,
        value: 'usd',
        insert: 'omitted',
        sign: { min: 'any', when: 'negative on a loss' },
      }),
      col('computation_mode', VARCHAR, {
        required: true,
        value: 'text',
        insert: 'always',
        values: ['full', 'incremental'],
      }),
      col('triggered_by', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('created_at', TSTZ),
      ...['allocations_removed', 'drift_rows_added', 'drift_rows_removed', 'drift_rows_changed'].map((c) =>
        col(c, 'integer', {
          required: true,
          addedIfMissing: true,
          value: 'count',
          insert: 'omitted',
          sign: COUNT,
        }),
      ),
      col('drift_usd', 'numeric', {
        required: true,
        addedIfMissing: true,
        value: 'usd',
        insert: 'omitted',
        sign: { min: 'any' },
      }),
      ...['trades_rejected', 'symbols_replayed', 'changes_consumed'].map((c) =>
        col(c, 'integer', {
          required: true,
          addedIfMissing: true,
          value: 'count',
          insert: 'omitted',
          sign: COUNT,
        }),
      ),
      col('dry_run', 'boolean', { required: true, addedIfMissing: true, value: 'boolean', insert: 'always' }),
      col('details', 'jsonb', { required: true, addedIfMissing: true, value: 'jsonb', insert: 'omitted' }),
      col('fifo_ledger_run', 'boolean', {
        required: true,
        addedIfMissing: true,
        migration: MIGRATIONS.botCoexistence,
        value: 'boolean',
        insert: 'always',
        needsDefault: {
          sql: 'false',
          why: "the bot's FIFO script logs its runs without it, and they must not count as fifo-ledger's",
        },
      }),
    ],
  },
  {
    name: 'fifo_rejected_trades',
    migration: MIGRATIONS.fifoTables,
    mayExist: false,
    role: "fifo-ledger's: the trades it cannot use, with the reason",
    inserts: true,
    identities: [['order_id']],
    conflictKeys: [['order_id']],
    columns: [
      col('order_id', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('symbol', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('reason', 'text', { required: true, value: 'text', insert: 'always' }),
      col('first_seen_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
      col('last_seen_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
    ],
  },
  {
    name: 'fifo_trade_changes',
    migration: MIGRATIONS.changeCapture,
    mayExist: false,
    role: "fifo-ledger's: the trade changes its triggers capture, in the bot's own sessions",
    inserts: true,
    identities: [['change_id']],
    columns: [
      col('change_id', 'bigint', {
        required: true,
        value: 'integer',
        insert: 'omitted',
        needsDefault: SERIAL,
      }),
      col('allocation_version', 'integer', { required: true, value: 'integer', insert: 'always' }),
      col('symbol', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('order_time', TSTZ, { required: true, value: 'time', insert: 'always' }),
      col('order_id', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('recorded_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
    ],
  },
  {
    name: 'fifo_legacy_pnl_archive',
    migration: MIGRATIONS.legacyArchive,
    mayExist: false,
    role: "fifo-ledger's: the legacy PnL values `fifo legacy archive` moved",
    inserts: true,
    identities: [['order_id']],
    conflictKeys: [['order_id']],
    columns: [
      col('order_id', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      ...LEGACY_ARCHIVE_COLUMNS.map((c) =>
        c === 'parent_id'
          ? col(c, VARCHAR, {
              required: true,
              value: 'text',
              insert: 'maybe-null',
              nullWhen: 'on trades without one',
            })
          : col(c, FLOAT8, {
              required: true,
              value: 'float8',
              insert: 'maybe-null',
              nullWhen: 'on trades without one',
            }),
      ),
      col('archived_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
      col('restored_at', TSTZ, {
        required: true,
        value: 'time',
        insert: 'maybe-null',
        nullWhen: 'until `fifo legacy restore` runs',
      }),
    ],
  },
  {
    name: 'fifo_mirror_writes',
    migration: MIGRATIONS.botCoexistence,
    mayExist: false,
    role: "fifo-ledger's: buys whose remaining_size another program rewrote",
    inserts: true,
    identities: [['order_id']],
    columns: [
      col('order_id', VARCHAR, { required: true, value: 'text', insert: 'always' }),
      col('recorded_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
    ],
  },
  {
    name: 'fifo_rebuild_runs',
    migration: MIGRATIONS.partitionedRebuild,
    mayExist: false,
    role: "fifo-ledger's: the partitioned full rebuilds, planned and finished",
    inserts: true,
    identities: [['run_id']],
    columns: [
      col('run_id', 'uuid', { required: true, value: 'uuid', insert: 'always' }),
      col('allocation_version', 'integer', { required: true, value: 'integer', insert: 'always' }),
      col('partitions', 'integer', { required: true, value: 'count', insert: 'always' }),
      col('dry_run', 'boolean', { required: true, value: 'boolean', insert: 'always' }),
      col('first_build', 'boolean', { required: true, value: 'boolean', insert: 'always' }),
      col('triggered_by', 'text', { required: true, value: 'text', insert: 'always' }),
      col('planned_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
      col('finished_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
      col('status', 'text', {
        required: true,
        value: 'text',
        insert: 'omitted',
        values: ['open', 'completed', 'abandoned'],
      }),
      col('log_id', 'bigint', { required: true, value: 'integer', insert: 'omitted' }),
    ],
  },
  {
    name: 'fifo_rebuild_partitions',
    migration: MIGRATIONS.partitionedRebuild,
    mayExist: false,
    role: "fifo-ledger's: each partition of a partitioned rebuild, its lease and its figures",
    inserts: true,
    identities: [['run_id', 'partition']],
    columns: [
      col('run_id', 'uuid', { required: true, value: 'uuid', insert: 'always' }),
      col('partition', 'integer', { required: true, value: 'count', insert: 'always', sign: COUNT }),
      col('symbols', `${VARCHAR}[]`, { required: true, value: 'symbols', insert: 'always' }),
      col('trades', 'bigint', { required: true, value: 'count', insert: 'always', sign: COUNT }),
      col('status', 'text', {
        required: true,
        value: 'text',
        insert: 'omitted',
        values: ['pending', 'running', 'completed'],
      }),
      col('holder', 'text', { required: true, value: 'text', insert: 'omitted' }),
      col('backend_pid', 'integer', { required: true, value: 'integer', insert: 'omitted' }),
      col('claimed_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
      col('lease_expires_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
      col('heartbeat_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
      col('attempts', 'integer', { required: true, value: 'count', insert: 'omitted' }),
      col('last_error', 'text', { required: true, value: 'text', insert: 'omitted' }),
      col('result', 'jsonb', { required: true, value: 'jsonb', insert: 'omitted' }),
      col('completed_at', TSTZ, { required: true, value: 'time', insert: 'omitted' }),
    ],
  },
  {
    name: 'fifo_symbol_locks',
    migration: MIGRATIONS.partitionedRebuild,
    mayExist: false,
    role: "fifo-ledger's: one row per symbol, locked by the transaction that writes the symbol",
    inserts: true,
    identities: [['allocation_version', 'symbol']],
    conflictKeys: [['allocation_version', 'symbol']],
    columns: [
      col('allocation_version', 'integer', { required: true, value: 'integer', insert: 'always' }),
      col('symbol', VARCHAR, { required: true, value: 'text', insert: 'always' }),
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
