/**
 * The CSV attachment: the window's allocations with the bot's column names, exact values
 * (no rounding), UTC times, an empty field for NULL. One header line, one line per row.
 */
import { stringify } from 'csv-stringify/sync';
import { ALLOCATION_COLUMNS } from '../fifo/index.ts';
import type { ReportModel } from './model.ts';

export const CSV_COLUMNS = ['allocation_version', ...ALLOCATION_COLUMNS] as const;

export function renderCsv(model: ReportModel): string {
  return stringify(
    model.allocations.map((row) => [String(model.version), ...ALLOCATION_COLUMNS.map((c) => row[c] ?? '')]),
    { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'unix' },
  );
}

/** "fifo-allocations-2024-03-10.csv": the report's local date. */
export function csvFileName(model: ReportModel): string {
  return `fifo-allocations-${model.window.date}.csv`;
}
