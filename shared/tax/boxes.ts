/**
 * The Form 8949 box of a row: its term and what the broker reported on Form 1099-DA.
 *
 * From tax year 2025 digital assets have their own boxes (Instructions for Form 8949, 2025,
 * Part I and Part II: "Do not use box C ... use box I", "Do not use box F ... use box L"):
 *
 *   reported by the broker        short  long
 *   basis reported to the IRS       G     J
 *   proceeds only (basis not)       H     K
 *   no Form 1099-DA received        I     L
 *
 * `--broker-reporting` says which applies:
 * - `custodial` (the default, a custodial exchange under Treas. Reg. 1.6045-1 as amended by
 *   T.D. 10000): a sale in 2025 is reported with gross proceeds only (H or K); from 2026 the
 *   basis is reported too for lots acquired from 2026-01-01 (G or J), and older lots stay
 *   proceeds only (H or K). The acquisition date is the local date in the taxpayer's zone.
 * - `basis`, `proceeds`: every row as if the broker reported basis, or proceeds only.
 * - `none`: no Form 1099-DA (a non-custodial setup): I or L.
 *
 * Before 2025 the form had no digital-asset boxes: the same three categories are boxes A, B, C
 * (short) and D, E, F (long), and a custodial exchange filed no Form 1099-DA yet, so
 * `custodial` gives C or F.
 */
import type { CalendarDate } from './calendar.ts';
import type { Term } from './holding.ts';
import type { BrokerReporting } from './settings.ts';

export type Box = 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L';

/** What the broker's return shows for one sale. */
export type Reported = 'basis' | 'proceeds' | 'none';

/** The first tax year with the digital-asset boxes G to L and with Form 1099-DA. */
export const DIGITAL_ASSET_BOXES_FROM = 2025;
/** Brokers report basis for digital assets acquired from this date on (covered securities). */
export const COVERED_FROM: CalendarDate = { year: 2026, month: 1, day: 1 };

const BOXES: Record<'modern' | 'legacy', Record<Term, Record<Reported, Box>>> = {
  modern: {
    short: { basis: 'G', proceeds: 'H', none: 'I' },
    long: { basis: 'J', proceeds: 'K', none: 'L' },
  },
  legacy: {
    short: { basis: 'A', proceeds: 'B', none: 'C' },
    long: { basis: 'D', proceeds: 'E', none: 'F' },
  },
};

const acquiredBeforeCovered = (acquired: CalendarDate | null) =>
  acquired === null ||
  acquired.year < COVERED_FROM.year ||
  (acquired.year === COVERED_FROM.year &&
    (acquired.month < COVERED_FROM.month ||
      (acquired.month === COVERED_FROM.month && acquired.day < COVERED_FROM.day)));

/**
 * What the broker reported for a sale in `taxYear` of a lot acquired on `acquired` (null: no
 * known lot, which a broker cannot have reported a basis for under `custodial`).
 */
export function reportedByBroker(
  reporting: BrokerReporting,
  taxYear: number,
  acquired: CalendarDate | null,
): Reported {
  if (reporting !== 'custodial') return reporting;
  if (taxYear < DIGITAL_ASSET_BOXES_FROM) return 'none';
  if (taxYear === DIGITAL_ASSET_BOXES_FROM) return 'proceeds';
  return acquiredBeforeCovered(acquired) ? 'proceeds' : 'basis';
}

export function form8949Box(
  term: Term,
  reporting: BrokerReporting,
  taxYear: number,
  acquired: CalendarDate | null,
): Box {
  const era = taxYear < DIGITAL_ASSET_BOXES_FROM ? 'legacy' : 'modern';
  return BOXES[era][term][reportedByBroker(reporting, taxYear, acquired)];
}

/** The term a box belongs to. */
export const termOfBox = (box: Box): Term => ('ABCGHI'.includes(box) ? 'short' : 'long');

/** Boxes in the form's order. */
export const BOX_ORDER: readonly Box[] = ['A', 'B', 'C', 'G', 'H', 'I', 'D', 'E', 'F', 'J', 'K', 'L'];
