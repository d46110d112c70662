/** SQL fragments shared by the database modules. Identifiers only; values always go in parameters. */

/** A timestamptz column as canonical UTC text, the engine's time form (shared/fifo/time.ts). */
export const utcText = (column: string): string =>
  `to_char((${column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A numeric column as canonical text: no trailing zeros, as the engine formats it. */
export const numericText = (column: string): string => `trim_scale(${column})::text`;

/** First key of the advisory locks, 'FIFO' in ASCII; the second key is the version. */
export const LOCK_NAMESPACE = 0x4649464f;

/** The numeric columns of fifo_allocations and fifo_lots (sizes, prices, USD amounts). */
const NUMERIC_COLUMNS = new Set([
  'allocated_size',
  'buy_price',
  'sell_price',
  'buy_fees_per_unit',
  'sell_fees_per_unit',
  'cost_basis_usd',
  'proceeds_usd',
  'net_proceeds_usd',
  'pnl_usd',
  'size',
  'remaining_size',
  'remaining_cost_usd',
]);

/** A fifo_* column as canonical text, in the engine's form: numbers trimmed, times as UTC text. */
export const canonicalColumn = (column: string): string =>
  NUMERIC_COLUMNS.has(column) ? numericText(column) : column.endsWith('_time') ? utcText(column) : column;

/** A select list of columns as canonical text, each under its own name. */
export const canonicalSelect = (columns: readonly string[]): string =>
  columns.map((c) => (canonicalColumn(c) === c ? c : `${canonicalColumn(c)} AS ${c}`)).join(', ');
