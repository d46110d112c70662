/**
 * The holding period of a lot, by the IRS rule (Pub. 544, ch. 4 "Holding Period"; Instructions
 * for Form 8949, Part I and Part II):
 *
 * - it starts the day after the acquisition date, and the disposal date counts, so the days
 *   held are (date sold - date acquired);
 * - a lot held more than one year is long-term: the date sold falls after the anniversary of
 *   the date acquired. A lot acquired on February 29 has its anniversary on February 28
 *   (Rev. Rul. 66-7: the period runs by calendar months, and the month has no 29th);
 * - dates are calendar dates in the taxpayer's zone: a sale at 23:30 on December 31 in New
 *   York is a sale of that year, though it is January 1 in UTC.
 *
 * "More than one year" is not "more than 365 days": a lot bought on 2027-03-01 and sold on
 * 2028-03-01 was held 366 days and is still short-term.
 */
import { type CalendarDate, compareDates, daysBetween, localCalendarDate } from './calendar.ts';

export type Term = 'short' | 'long';

/** The first anniversary of a date; February 29 has it on February 28. */
export function anniversary(acquired: CalendarDate): CalendarDate {
  if (acquired.month === 2 && acquired.day === 29) return { year: acquired.year + 1, month: 2, day: 28 };
  return { year: acquired.year + 1, month: acquired.month, day: acquired.day };
}

/** Long-term when the sale date falls after the acquisition date's anniversary. */
export function termOf(acquired: CalendarDate, sold: CalendarDate): Term {
  return compareDates(sold, anniversary(acquired)) > 0 ? 'long' : 'short';
}

export interface HoldingPeriod {
  readonly acquired: CalendarDate;
  readonly sold: CalendarDate;
  /** Counted from the day after acquisition through the sale date. */
  readonly daysHeld: number;
  readonly term: Term;
}

/** The holding period of a slice bought and sold at these instants (canonical UTC text). */
export function holdingPeriod(buyTimeUtc: string, sellTimeUtc: string, timeZone: string): HoldingPeriod {
  const acquired = localCalendarDate(buyTimeUtc, timeZone);
  const sold = localCalendarDate(sellTimeUtc, timeZone);
  return { acquired, sold, daysHeld: daysBetween(sold, acquired), term: termOf(acquired, sold) };
}
