/**
 * Trade times as canonical UTC text with microseconds: "2024-11-05T14:03:07.123456Z".
 *
 * PostgreSQL timestamptz has microsecond precision and JavaScript Date only milliseconds,
 * so times never become Date objects in the engine. The fixed-width text sorts in time
 * order, compares with ===, and is exactly what the database layer produces with to_char.
 */

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

export class TimeFormatError extends Error {
  override name = 'TimeFormatError';
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two digits at `at` as a number, or -1. */
function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The canonical text of a time already written "YYYY-MM-DDTHH:MM:SS[.f...]Z" with at most 6
 * fraction digits and valid fields, else null. No regex and no Date: most trade files write
 * every time this way, and a replay reads millions (docs/performance.md, `fifo replay`).
 * Anything else, errors included, is left to the general parser.
 */
function canonicalUtcTime(text: string): string | null {
  const length = text.length;
  if (length < 20 || length > 27 || length === 21 || text.charCodeAt(length - 1) !== 90) return null;
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return null;
  }
  const century = twoDigits(text, 0);
  const yy = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1) return null;
  const year = century * 100 + yy;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (year === 0 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return null;
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  if (length === 20) return `${text.slice(0, 19)}.000000Z`;
  if (text.charCodeAt(19) !== 46) return null;
  for (let i = 20; i < length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  return `${text.slice(0, length - 1)}${'000000'.slice(length - 21)}Z`;
}

/**
 * Parses ISO-8601 ("2021-01-04T00:00:01Z", "2021-01-04 02:00:01+02:00", "2021-01-04") to
 * canonical UTC text. A time without an offset is taken as UTC, like the bot's fill times.
 */
export function canonicalTime(text: string): string {
  const canonical = canonicalUtcTime(text);
  if (canonical !== null) return canonical;
  const m = ISO_TIME.exec(text.trim());
  if (!m) throw new TimeFormatError(`"${text}" is not an ISO-8601 time`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  if (/[1-9]/.test(frac.slice(6))) {
    throw new TimeFormatError(`"${text}" is more precise than a microsecond`);
  }
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  local.setUTCFullYear(year); // Date.UTC maps years 0-99 to 1900-1999
  const valid =
    local.getUTCFullYear() === year &&
    local.getUTCMonth() === month - 1 &&
    local.getUTCDate() === day &&
    local.getUTCHours() === hour &&
    local.getUTCMinutes() === minute &&
    local.getUTCSeconds() === second;
  if (!valid) throw new TimeFormatError(`"${text}" is not a valid calendar time`);
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const zh = Number(digits.slice(0, 2));
    const zm = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (zh > 23 || zm > 59) throw new TimeFormatError(`"${text}" has an invalid UTC offset`);
    offsetMinutes = sign * (zh * 60 + zm);
  }
  const utc = new Date(local.getTime() - offsetMinutes * 60_000);
  if (utc.getUTCFullYear() < 1 || utc.getUTCFullYear() > 9999) {
    throw new TimeFormatError(`"${text}" is outside the years 0001-9999`);
  }
  const micros = frac.slice(0, 6).padEnd(6, '0');
  return (
    `${pad(utc.getUTCFullYear(), 4)}-${pad(utc.getUTCMonth() + 1, 2)}-${pad(utc.getUTCDate(), 2)}` +
    `T${pad(utc.getUTCHours(), 2)}:${pad(utc.getUTCMinutes(), 2)}:${pad(utc.getUTCSeconds(), 2)}.${micros}Z`
  );
}
