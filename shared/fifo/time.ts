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

/**
 * Parses ISO-8601 ("2021-01-04T00:00:01Z", "2021-01-04 02:00:01+02:00", "2021-01-04") to
 * canonical UTC text. A time without an offset is taken as UTC, like the bot's fill times.
 */
export function canonicalTime(text: string): string {
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
