/**
 * Calendar dates in the taxpayer's zone. A tax lot's dates are the local calendar dates of its
 * buy and its sell in an IANA zone, read with Intl exactly as the daily report reads its days
 * (shared/report/format.ts `localDate`), so both agree on which day an instant belongs to.
 *
 * Instants arrive as the engine's canonical UTC text with microseconds
 * ("2026-01-01T04:59:59.999999Z"). JavaScript dates hold milliseconds, so the text is cut to
 * the millisecond, never rounded: 23:59:59.9999995 stays on its day.
 */
import { localDate } from '../util/format.ts';

/** A calendar date; month 1-12. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "2026-03-15" to a date; null when it is not a real calendar date. */
export function parseIsoDate(text: string): CalendarDate | null {
  const m = DATE_TEXT.exec(text);
  if (!m) return null;
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  return isRealDate(date) ? date : null;
}

export function isRealDate(date: CalendarDate): boolean {
  if (date.month < 1 || date.month > 12 || date.day < 1) return false;
  return date.day <= daysInMonth(date.year, date.month);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The instant of canonical UTC text, cut (not rounded) to the millisecond. */
export function instantOf(utc: string): Date {
  // "YYYY-MM-DDTHH:MM:SS.mmm" is 23 characters; the rest is sub-millisecond digits and the Z.
  const text = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}/.test(utc) ? `${utc.slice(0, 23)}Z` : utc;
  const instant = new Date(text);
  if (Number.isNaN(instant.getTime())) throw new RangeError(`"${utc}" is not a time`);
  return instant;
}

/** The local calendar date of an instant (canonical UTC text or a Date) in an IANA zone. */
export function localCalendarDate(instant: string | Date, timeZone: string): CalendarDate {
  const text = localDate(typeof instant === 'string' ? instantOf(instant) : instant, timeZone);
  const date = parseIsoDate(text);
  if (!date) throw new RangeError(`no calendar date for ${String(instant)} in ${timeZone}`);
  return date;
}

/** Days from the epoch to the date (proleptic Gregorian), for differences only. */
export function dayNumber(date: CalendarDate): number {
  const ms = new Date(0).setUTCFullYear(date.year, date.month - 1, date.day);
  return Math.round(ms / 86_400_000);
}

/** a - b in calendar days. */
export const daysBetween = (a: CalendarDate, b: CalendarDate): number => dayNumber(a) - dayNumber(b);

/** -1, 0 or 1. */
export function compareDates(a: CalendarDate, b: CalendarDate): number {
  return Math.sign(a.year - b.year || a.month - b.month || a.day - b.day);
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** "2026-03-15" */
export const isoDate = (d: CalendarDate): string => `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;

/** "03/15/2026", the form's date format. */
export const formDate = (d: CalendarDate): string => `${pad(d.month, 2)}/${pad(d.day, 2)}/${pad(d.year, 4)}`;

/**
 * The first instant of a local day in the zone, found by bisection on the local date (which
 * never goes back within a day), so a day that starts at 01:00 after a DST jump is right too.
 */
export function startOfLocalDay(date: CalendarDate, timeZone: string): Date {
  const target = dayNumber(date);
  const local = (ms: number) => dayNumber(localCalendarDate(new Date(ms), timeZone));
  const midnightUtc = new Date(0).setUTCFullYear(date.year, date.month - 1, date.day);
  // Offsets stay within -12 h .. +14 h: the day starts between these two instants.
  let low = midnightUtc - 15 * 3_600_000; // local date before `date`
  let high = midnightUtc + 13 * 3_600_000; // local date `date` or later
  if (local(low) >= target || local(high) < target) {
    throw new RangeError(`cannot find the start of ${isoDate(date)} in ${timeZone}`);
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (local(middle) >= target) high = middle;
    else low = middle;
  }
  return new Date(high);
}
