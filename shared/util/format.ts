/**
 * Display formatting for the renderers. Amounts arrive as exact decimal text and are rounded
 * here, for display only (half away from zero, as SQL round() does). Nothing here feeds a sum.
 */
import { Decimal } from 'decimal.js';

const groupThousands = (digits: string): string => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function fixed(value: Decimal, places: number): string {
  const text = value.toDecimalPlaces(places, Decimal.ROUND_HALF_UP).toFixed(places);
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const [whole, fraction] = body.split('.');
  const grouped = fraction === undefined ? groupThousands(whole!) : `${groupThousands(whole!)}.${fraction}`;
  // "-0.00" reads as a loss that is not there.
  return negative && /[1-9]/.test(body) ? `-${grouped}` : grouped;
}

/** USD to 2 dp with thousands separators: "1,234.57", "-0.05". */
export function money(text: string): string {
  return fixed(new Decimal(text), 2);
}

/** USD to 2 dp with an explicit sign, for PnL: "+1,234.57", "-0.05", "0.00". */
export function signedMoney(text: string): string {
  const shown = money(text);
  return shown === '0.00' || shown.startsWith('-') ? shown : `+${shown}`;
}

/** A unit price (average cost): 2 dp from 1,000 up, else 6 significant digits, at least 2 dp. */
export function price(text: string): string {
  const value = new Decimal(text);
  if (value.abs().gte(1000) || value.isZero()) return fixed(value, 2);
  const significant = value.toSignificantDigits(6, Decimal.ROUND_HALF_UP);
  return fixed(significant, Math.max(2, significant.decimalPlaces()));
}

/** A size as stored (exact), with thousands separators in the whole part. */
export function quantity(text: string): string {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const [whole, fraction] = body.split('.');
  const grouped = fraction === undefined ? groupThousands(whole!) : `${groupThousands(whole!)}.${fraction}`;
  return negative ? `-${grouped}` : grouped;
}

/** A ratio 0..1 as a percentage with one decimal: "66.7%"; null as "n/a". */
export function percent(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${(ratio * 100).toFixed(1)}%`;
}

/** "45 s", "12 min", "3 h 05 min", "4 d 2 h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

interface LocalParts {
  readonly date: string;
  readonly time: string;
  readonly zone: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock date, time and zone abbreviation of an instant in an IANA zone. */
export function localParts(instant: Date | string, timeZone: string): LocalParts {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(
    f.formatToParts(typeof instant === 'string' ? new Date(instant) : instant).map((p) => [p.type, p.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}`,
    zone: parts.timeZoneName ?? timeZone,
  };
}

/** "2024-03-10 20:00 EDT" */
export function localTime(instant: Date | string, timeZone: string): string {
  const p = localParts(instant, timeZone);
  return `${p.date} ${p.time} ${p.zone}`;
}

/** The local calendar date, "2024-03-10". */
export function localDate(instant: Date | string, timeZone: string): string {
  return localParts(instant, timeZone).date;
}

/** An exact ratio (0.00601805) as a percentage, "0.60%"; null as "n/a". */
export function ratioPercent(text: string | null, places = 2): string {
  if (text === null) return 'n/a';
  const shown = new Decimal(text).times(100).toDecimalPlaces(places, Decimal.ROUND_HALF_UP).toFixed(places);
  return `${shown === `-${(0).toFixed(places)}` ? (0).toFixed(places) : shown}%`;
}

/** A whole-number change with its sign: "+3", "-2", "0". */
export function signedCount(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/** The change of a win rate in percentage points, "+12.5 pp"; "n/a" when either is undefined. */
export function pointsChange(now: number | null, before: number | null): string {
  if (now === null || before === null) return 'n/a';
  const points = ((now - before) * 100).toFixed(1);
  return `${points.startsWith('-') || points === '0.0' ? points.replace('-0.0', '0.0') : `+${points}`} pp`;
}
