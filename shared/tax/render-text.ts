/**
 * The tax report as text for the terminal: the totals table (per box, per term, in all: the
 * figures for Schedule D), the missing-basis total with the commands that explain each sell,
 * and the reconciliation with the broker. Amounts are exact, with thousands separators.
 */
import { formatQty } from '../fifo/index.ts';
import { left, right, textTable } from '../util/text-table.ts';
import { abs, groupedAmount, ONE_CENT } from './amounts.ts';
import { isoDate } from './calendar.ts';
import { dayDiffers, type ReconciliationDay } from './reconcile.ts';
import type { TaxReport } from './report.ts';
import type { AmountTotals } from './totals.ts';

/** How many sells the missing-basis note names before it only counts them. */
export const EXPLAINS_SHOWN = 10;

const amounts = (t: AmountTotals) => [
  t.rows.toLocaleString('en-US'),
  groupedAmount(t.proceeds),
  groupedAmount(t.costBasis),
  groupedAmount(t.adjustments),
  groupedAmount(t.gain),
];

export function renderTotalsText(report: TaxReport): string {
  const { totals, period } = report;
  const lines = [
    `Form 8949, tax year ${report.year}, version ${report.version}: sales dated ${isoDate(period.firstDay)} to ` +
      `${isoDate(period.lastDay)} in ${report.timeZone} (${period.startUtc} to ${period.endUtc} UTC)`,
    `broker reporting: ${report.brokerReporting}; unmatched sells: ${report.unmatched}; ${report.rows.length.toLocaleString('en-US')} rows`,
    '',
    ...textTable(
      [
        left('box'),
        left('term'),
        right('rows'),
        right('(d) proceeds'),
        right('(e) cost basis'),
        right('(g) adjustments'),
        right('(h) gain'),
      ],
      [
        ...totals.byBox.map((b) => [b.box, b.term, ...amounts(b)]),
        ['short-term', '', ...amounts(totals.byTerm.short)],
        ['long-term', '', ...amounts(totals.byTerm.long)],
        ['all', '', ...amounts(totals.all)],
      ],
      { indent: '', rule: false },
    ),
  ];
  const missing = totals.missingBasis;
  if (missing.rows > 0) {
    lines.push(
      '',
      missing.inBoxTotals
        ? `MISSING BASIS: ${missing.rows} slices of ${missing.sells} sells have no lot; they are in the totals above ` +
            `at a basis of 0, short-term, proceeds ${groupedAmount(missing.proceeds)} USD counted as gain (--unmatched zero-basis)`
        : `MISSING BASIS: ${missing.rows} slices of ${missing.sells} sells have no lot: proceeds ${groupedAmount(missing.proceeds)} USD, ` +
            'not in the totals above (their gain is unknown until their basis is found)',
    );
    const explains = new Map(report.rows.map((r) => [r.sellOrderId, r.explain]));
    for (const id of missing.sellOrderIds.slice(0, EXPLAINS_SHOWN)) lines.push(`  ${explains.get(id)}`);
    if (missing.sells > EXPLAINS_SHOWN) {
      lines.push(`  ... and ${missing.sells - EXPLAINS_SHOWN} more sells (the rows flagged MISSING BASIS)`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const atLeastACent = (v: bigint | null) => v !== null && abs(v) >= ONE_CENT;

function dayLine(d: ReconciliationDay): string {
  const basis =
    d.basisDifference === null
      ? 'basis not reported by the broker'
      : `basis ${groupedAmount(d.basisDifference)}${d.fifoMissingBasis ? ' (a fifo-ledger sell lacks its basis)' : ''}`;
  return (
    `  ${d.date} ${d.asset}: quantity ${formatQty(d.quantityDifference)}, proceeds ${groupedAmount(d.proceedsDifference)}, ` +
    `${basis} (${d.brokerRows} broker rows, ${d.sells} sells, ${d.pairedByQuantity} paired by quantity)`
  );
}

/** Empty when there is no reconciliation. */
export function renderReconciliationText(report: TaxReport, file: string): string {
  const r = report.reconciliation;
  if (!r) return '';
  const lines = [
    `reconciliation with the broker's Form 1099-DA (${file}), which changes nothing in the report: ` +
      `${r.brokerRows} broker rows, ${r.sells} fifo-ledger sells, ${r.pairedByQuantity} paired by asset, day and quantity`,
    `broker rows that match nothing: ${r.unmatchedBrokerRows.length}`,
    ...r.unmatchedBrokerRows.map(
      ({ row, reason }) =>
        `  line ${row.line}: ${isoDate(row.sold)} ${row.asset} ${formatQty(row.quantity)}, proceeds ` +
        `${groupedAmount(row.proceeds)}: ${reason}`,
    ),
    `fifo-ledger sells that match nothing: ${r.unmatchedSells.length}`,
    ...r.unmatchedSells.map(
      (s) =>
        `  ${s.date} ${s.asset} ${formatQty(s.quantity)}, proceeds ${groupedAmount(s.proceeds)}: no broker row that day (${s.explain})`,
    ),
  ];
  const both = r.days.filter((d) => d.brokerRows > 0 && d.sells > 0);
  const shown = both.filter(
    (d) =>
      d.quantityDifference !== 0n || atLeastACent(d.proceedsDifference) || atLeastACent(d.basisDifference),
  );
  const small = both.filter((d) => dayDiffers(d) && !shown.includes(d)).length;
  lines.push(
    `differences per asset and day, broker minus fifo-ledger: ${shown.length} days differ by a cent or more` +
      (small ? `, ${small} by less than a cent (rounding; all are in the reconciliation CSV/JSON)` : ''),
    ...shown.map(dayLine),
  );
  return `${lines.join('\n')}\n`;
}
