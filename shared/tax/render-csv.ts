/**
 * The CSV files of the tax report: the Form 8949 rows, the totals, the reconciliation.
 * Amounts are exact decimal text (never rounded); an empty field is an empty cell. Text that a
 * spreadsheet would run as a formula gets a leading apostrophe (neutraliseFormula, as the daily
 * report's CSV); amounts are left alone, so a loss stays a number.
 */
import { stringify } from 'csv-stringify/sync';
import { formatQty } from '../fifo/index.ts';
import { neutraliseFormula } from '../util/csv-formula.ts';
import { formatAmount, formatQuantity } from './amounts.ts';
import { formDate } from './calendar.ts';
import { dayDiffers } from './reconcile.ts';
import type { TaxReport } from './report.ts';
import type { TaxRow } from './rows.ts';
import type { AmountTotals } from './totals.ts';

export const TAX_CSV_COLUMNS = [
  'a_description',
  'b_date_acquired',
  'c_date_sold',
  'd_proceeds',
  'e_cost_basis',
  'f_code',
  'g_adjustment',
  'h_gain',
  'flag',
  'sell_order_id',
  'buy_order_id',
  'acquired_utc',
  'sold_utc',
  'days_held',
  'term',
  'box',
  'explain',
] as const;

export type TaxCsvRecord = Record<(typeof TAX_CSV_COLUMNS)[number], string>;

const orEmpty = <T>(value: T | null, format: (v: T) => string): string =>
  value === null ? '' : format(value);

/** The columns a data value can fill with any text; the others are numbers, dates and codes. */
const TEXT_COLUMNS: readonly (keyof TaxCsvRecord)[] = [
  'a_description',
  'f_code',
  'sell_order_id',
  'buy_order_id',
  'explain',
];

/** A row as the text of each column, exact and as it is (the JSON output's values). */
export function taxRecord(row: TaxRow): TaxCsvRecord {
  return {
    a_description: `${formatQuantity(row.quantity)} ${row.asset}`,
    b_date_acquired: orEmpty(row.acquired, formDate),
    c_date_sold: formDate(row.sold),
    d_proceeds: formatAmount(row.proceeds),
    e_cost_basis: orEmpty(row.costBasis, formatAmount),
    f_code: row.code,
    g_adjustment: orEmpty(row.adjustment, formatAmount),
    h_gain: orEmpty(row.gain, formatAmount),
    flag: row.flag,
    sell_order_id: row.sellOrderId,
    buy_order_id: row.buyOrderId ?? '',
    acquired_utc: row.acquiredUtc ?? '',
    sold_utc: row.soldUtc,
    days_held: orEmpty(row.daysHeld, String),
    term: row.term ?? '',
    box: row.box ?? '',
    explain: row.explain,
  };
}

/** The record for a spreadsheet: text columns neutralised (a leading = + - @ gets an apostrophe). */
export function taxCsvRecord(row: TaxRow): TaxCsvRecord {
  const record = taxRecord(row);
  for (const column of TEXT_COLUMNS) record[column] = neutraliseFormula(record[column]);
  return record;
}

const csv = (columns: readonly string[], records: string[][]) =>
  stringify(records, { header: true, columns: [...columns], record_delimiter: 'unix' });

export function renderTaxCsv(report: TaxReport): string {
  return csv(
    TAX_CSV_COLUMNS,
    report.rows.map((row) => {
      const record = taxCsvRecord(row);
      return TAX_CSV_COLUMNS.map((c) => record[c]);
    }),
  );
}

export const TOTALS_CSV_COLUMNS = [
  'scope',
  'box',
  'term',
  'rows',
  'd_proceeds',
  'e_cost_basis',
  'g_adjustments',
  'h_gain',
] as const;

const amounts = (t: AmountTotals) => [
  String(t.rows),
  formatAmount(t.proceeds),
  formatAmount(t.costBasis),
  formatAmount(t.adjustments),
  formatAmount(t.gain),
];

/** Per box, per term, in all; then the missing-basis slices, with proceeds only. */
export function renderTotalsCsv(report: TaxReport): string {
  const { totals } = report;
  const missing = totals.missingBasis;
  return csv(TOTALS_CSV_COLUMNS, [
    ...totals.byBox.map((b) => ['box', b.box, b.term, ...amounts(b)]),
    ['term', '', 'short', ...amounts(totals.byTerm.short)],
    ['term', '', 'long', ...amounts(totals.byTerm.long)],
    ['all', '', '', ...amounts(totals.all)],
    [
      missing.inBoxTotals
        ? 'missing basis (in the totals at zero basis)'
        : 'missing basis (not in the totals)',
      '',
      '',
      String(missing.rows),
      formatAmount(missing.proceeds),
      '',
      '',
      '',
    ],
  ]);
}

export const RECONCILIATION_CSV_COLUMNS = [
  'date_sold',
  'asset',
  'status',
  'broker_rows',
  'fifo_sells',
  'paired_by_quantity',
  'broker_quantity',
  'fifo_quantity',
  'quantity_difference',
  'broker_proceeds',
  'fifo_proceeds',
  'proceeds_difference',
  'broker_cost_basis',
  'fifo_cost_basis',
  'cost_basis_difference',
  'fifo_missing_basis',
] as const;

/** One line per asset and day either side has; differences are broker minus fifo-ledger. */
export function renderReconciliationCsv(report: TaxReport): string {
  const days = report.reconciliation?.days ?? [];
  return csv(
    RECONCILIATION_CSV_COLUMNS,
    days.map((d) => [
      d.date,
      neutraliseFormula(d.asset),
      d.sells === 0
        ? 'broker only'
        : d.brokerRows === 0
          ? 'fifo-ledger only'
          : dayDiffers(d)
            ? 'differs'
            : 'equal',
      String(d.brokerRows),
      String(d.sells),
      String(d.pairedByQuantity),
      formatQty(d.brokerQuantity),
      formatQty(d.fifoQuantity),
      formatQty(d.quantityDifference),
      formatAmount(d.brokerProceeds),
      formatAmount(d.fifoProceeds),
      formatAmount(d.proceedsDifference),
      orEmpty(d.brokerBasis, formatAmount),
      formatAmount(d.fifoBasis),
      orEmpty(d.basisDifference, formatAmount),
      d.fifoMissingBasis ? 'yes' : '',
    ]),
  );
}
