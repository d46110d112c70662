/** SQL fragments shared by the database modules. Identifiers only; values always go in parameters. */
import { type ColumnSpec, column, NUMERIC_KINDS, rowColumns, type TableSpec } from '../tables/spec.ts';

/** A timestamptz column as canonical UTC text, the engine's time form (shared/fifo/time.ts). */
export const utcText = (column: string): string =>
  `to_char((${column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A numeric column as canonical text: no trailing zeros, as the engine formats it. */
export const numericText = (column: string): string => `trim_scale(${column})::text`;

/** First key of the advisory locks, 'FIFO' in ASCII; the second key is the version. */
export const LOCK_NAMESPACE = 0x4649464f;

/** A column as canonical text, in the engine's form: numbers trimmed, times as UTC text. */
export const canonicalColumn = (c: ColumnSpec): string =>
  NUMERIC_KINDS.has(c.kind) ? numericText(c.name) : c.kind === 'time' ? utcText(c.name) : c.name;

/**
 * A select list of a table's columns as canonical text, each under its own name; by default
 * the columns of the engine's row (AllocationRow, LotRow).
 */
export function canonicalSelect(table: TableSpec, names: readonly string[] = rowColumns(table)): string {
  return names
    .map((name) => {
      const text = canonicalColumn(column(table, name));
      return text === name ? name : `${text} AS ${name}`;
    })
    .join(', ');
}
