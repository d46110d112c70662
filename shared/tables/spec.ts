/**
 * The shape of a table, written once: its columns in the order the migrations create them,
 * each with its SQL type, what fifo-ledger keeps in it, its nullability and default. The
 * bulk writers' COPY lists and casts (shared/db/bulk.ts), the canonical text SQL (shared/db/sql.ts), the
 * digests, the trade source's SELECT and its parsing by name (shared/db/trades.ts), the engine's row
 * columns (shared/fifo/output.ts) and the schema `fifo adopt --check` expects
 * (shared/legacy/expected-schema.ts) are derived from it; test/db/column-spec.test.ts holds
 * every spec equal to what the migrations build. Pure data with no imports, so that the
 * engine can take its column order from here.
 */

/** The migration files, by what they do. */
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
 * (shared/legacy/adopt-check-columns.ts judges them) and how a value is read back as text.
 * - usd, quantity, per-unit: exact decimals with up to 8, 30 and 18 decimal places
 *   (shared/fifo/decimal.ts), written as text and read back with trim_scale()
 * - time: a UTC instant, read back as the engine's canonical text (shared/fifo/time.ts)
 * - text: a string, free text: any character may stand in it
 * - integer: a whole number (versions, ids); count: any number (counters, durations);
 *   uuid, boolean, jsonb: as named
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

/** The sign of what fifo-ledger writes, to judge CHECK (col > 0) and CHECK (col >= 0). */
export interface ColumnSign {
  readonly min: 'positive' | 'nonnegative' | 'any';
  readonly when?: string;
}

export interface ColumnSpec {
  readonly name: string;
  /** As format_type() spells it. */
  readonly type: string;
  /** What fifo-ledger stores in it or reads from it; absent: fifo-ledger never touches it. */
  readonly kind?: ValueKind;
  /** As the migrations create it; a view's columns say what its readers must expect. */
  readonly nullable: boolean;
  /** The default as information_schema.columns.column_default spells it. */
  readonly default?: string;
  /**
   * What a bulk write takes it from: the engine's row (a column of AllocationRow or LotRow,
   * in this order), or the run (allocation_version, allocation_batch_id, after the row's).
   */
  readonly from?: 'row' | 'run';
  /** The migration adds it to a table that exists without it (ADD COLUMN IF NOT EXISTS). */
  readonly addedIfMissing?: boolean;
  /** The migration that adds it, when not the table's own. */
  readonly migration?: MigrationName;
  /** A deprecated legacy column of the bot's: it may have been dropped, nothing needs it. */
  readonly deprecated?: boolean;
  /** How fifo-ledger's INSERTs fill it; a column with `from` is 'always' unless it has `nullWhen`. */
  readonly insert?: InsertMode;
  /** When an insert leaves it NULL, for adopt --check's reason. */
  readonly nullWhen?: string;
  readonly sign?: ColumnSign;
  /** Every value fifo-ledger writes, to judge CHECK (col IN (...)). */
  readonly values?: readonly string[];
  /** Why writers that leave it out depend on its `default`, which it must keep. */
  readonly needsDefault?: string;
}

export interface TableSpec {
  /** The table or view. */
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
}

/** The names of a spec's columns that a bulk write takes from the engine's row. */
export type RowColumn<T extends TableSpec> = Extract<T['columns'][number], { readonly from: 'row' }>['name'];

/** The engine's row columns of a table, in the spec's order. */
export const rowColumns = <T extends TableSpec>(table: T): readonly RowColumn<T>[] =>
  table.columns.filter((c) => c.from === 'row').map((c) => c.name as RowColumn<T>);

/** What a bulk write fills: the row's columns, then the run's. */
export const writtenColumns = (table: TableSpec): readonly ColumnSpec[] => [
  ...table.columns.filter((c) => c.from === 'row'),
  ...table.columns.filter((c) => c.from === 'run'),
];

/** A table's column by name; an unknown name is a programming error. */
export function column(table: TableSpec, name: string): ColumnSpec {
  const found = table.columns.find((c) => c.name === name);
  if (!found) throw new Error(`${table.name} has no column ${name} in its spec`);
  return found;
}

export const NUMERIC_KINDS: ReadonlySet<ValueKind | undefined> = new Set(['usd', 'quantity', 'per-unit']);

/** Kinds whose text never holds anything but digits, '.', '-', ':', 'T', 'Z' or hex. */
const PLAIN_KINDS: ReadonlySet<ValueKind | undefined> = new Set([
  ...NUMERIC_KINDS,
  'time',
  'integer',
  'count',
  'uuid',
  'boolean',
]);

/**
 * Whether any character may stand in the column's text (ids, symbols, notes): such values
 * are escaped on COPY and their length counted in code points. Every other column holds the
 * engine's numbers, canonical times or uuids.
 */
export const isFreeText = (c: ColumnSpec): boolean => !PLAIN_KINDS.has(c.kind);
