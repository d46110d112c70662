/**
 * The CSV attachment: the window's allocations with the bot's column names, exact values
 * (no rounding), UTC times, an empty field for NULL. One header line, one line per row.
 */
import { stringify } from 'csv-stringify/sync';
import { ALLOCATION_COLUMNS } from '../fifo/index.ts';
import type { ReportModel } from './model.ts';

export const CSV_COLUMNS = ['allocation_version', ...ALLOCATION_COLUMNS] as const;

/** Columns the data fills with any text (the others are decimals and times the engine wrote). */
const TEXT_COLUMNS = new Set<string>(['sell_order_id', 'buy_order_id', 'symbol', 'notes']);

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return) as a
 * formula: a symbol of `=HYPERLINK(...)` would. Such text gets a leading apostrophe, as
 * OWASP's CSV-injection advice says. Decimals are left alone: a negative PnL stays a number.
 */
export function neutraliseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

export function renderCsv(model: ReportModel): string {
  return stringify(
    model.allocations.map((row) => [
      String(model.version),
      ...ALLOCATION_COLUMNS.map((c) => {
        const value = row[c] ?? '';
        return TEXT_COLUMNS.has(c) ? neutraliseFormula(value) : value;
      }),
    ]),
    { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'unix' },
  );
}

/** "fifo-allocations-2024-03-10.csv": the report's local date. */
export function csvFileName(model: ReportModel): string {
  return `fifo-allocations-${model.window.date}.csv`;
}
