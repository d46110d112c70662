/**
 * The tax report as one JSON object. Every amount and quantity is a decimal string (exact),
 * null where the CSV has an empty cell. Rows carry the CSV's columns under the same names, with
 * the text as it is: a spreadsheet's formula guard is the CSV's business.
 */
import { formatQty } from '../fifo/index.ts';
import { formatAmount } from './amounts.ts';
import type { BrokerRow } from './broker-csv.ts';
import { isoDate } from './calendar.ts';
import type { Disposal, ReconciliationDay } from './reconcile.ts';
import { TAX_CSV_COLUMNS, taxRecord } from './render-csv.ts';
import type { TaxReport } from './report.ts';
import type { AmountTotals } from './totals.ts';

const nullable = (text: string) => (text === '' ? null : text);
const orNull = <T>(value: T | null, format: (v: T) => string) => (value === null ? null : format(value));

const amounts = (t: AmountTotals) => ({
  rows: t.rows,
  proceeds: formatAmount(t.proceeds),
  cost_basis: formatAmount(t.costBasis),
  adjustments: formatAmount(t.adjustments),
  gain: formatAmount(t.gain),
});

const brokerRow = (row: BrokerRow) => ({
  line: row.line,
  date_sold: isoDate(row.sold),
  asset: row.asset,
  quantity: formatQty(row.quantity),
  proceeds: formatAmount(row.proceeds),
  cost_basis: orNull(row.costBasis, formatAmount),
});

const disposal = (d: Disposal) => ({
  sell_order_id: d.sellOrderId,
  date_sold: d.date,
  asset: d.asset,
  quantity: formatQty(d.quantity),
  proceeds: formatAmount(d.proceeds),
  cost_basis: formatAmount(d.costBasis),
  missing_basis: d.missingBasis,
  explain: d.explain,
});

const day = (d: ReconciliationDay) => ({
  date_sold: d.date,
  asset: d.asset,
  broker_rows: d.brokerRows,
  fifo_sells: d.sells,
  paired_by_quantity: d.pairedByQuantity,
  broker_quantity: formatQty(d.brokerQuantity),
  fifo_quantity: formatQty(d.fifoQuantity),
  quantity_difference: formatQty(d.quantityDifference),
  broker_proceeds: formatAmount(d.brokerProceeds),
  fifo_proceeds: formatAmount(d.fifoProceeds),
  proceeds_difference: formatAmount(d.proceedsDifference),
  broker_cost_basis: orNull(d.brokerBasis, formatAmount),
  fifo_cost_basis: formatAmount(d.fifoBasis),
  cost_basis_difference: orNull(d.basisDifference, formatAmount),
  fifo_missing_basis: d.fifoMissingBasis,
});

export function taxReportJson(report: TaxReport) {
  const { totals, reconciliation: r } = report;
  return {
    tax_year: report.year,
    time_zone: report.timeZone,
    version: report.version,
    broker_reporting: report.brokerReporting,
    unmatched: report.unmatched,
    period: {
      first_day: isoDate(report.period.firstDay),
      last_day: isoDate(report.period.lastDay),
      start_utc: report.period.startUtc,
      end_utc: report.period.endUtc,
    },
    rows: report.rows.map((row) => {
      const record = taxRecord(row);
      const out: Record<string, string | number | null> = {};
      for (const c of TAX_CSV_COLUMNS) out[c] = nullable(record[c]);
      out.days_held = row.daysHeld;
      return out;
    }),
    totals: {
      by_box: totals.byBox.map((b) => ({ box: b.box, term: b.term, ...amounts(b) })),
      short_term: amounts(totals.byTerm.short),
      long_term: amounts(totals.byTerm.long),
      all: amounts(totals.all),
      missing_basis: {
        rows: totals.missingBasis.rows,
        sells: totals.missingBasis.sells,
        proceeds: formatAmount(totals.missingBasis.proceeds),
        in_box_totals: totals.missingBasis.inBoxTotals,
        sell_order_ids: totals.missingBasis.sellOrderIds,
      },
    },
    reconciliation: r && {
      broker_rows: r.brokerRows,
      fifo_sells: r.sells,
      paired_by_quantity: r.pairedByQuantity,
      unmatched_broker_rows: r.unmatchedBrokerRows.map((u) => ({ ...brokerRow(u.row), reason: u.reason })),
      unmatched_sells: r.unmatchedSells.map(disposal),
      days: r.days.map(day),
    },
  };
}
