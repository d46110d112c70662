/**
 * Tax year to date: the realized PnL of the report's calendar year (in its zone) split into
 * short-term and long-term by the IRS holding-period rule (../tax/holding.ts), and the open
 * lots that turn long-term within the next 30 days, with their unrealized PnL at the report's
 * marks.
 *
 * - Year: the allocations whose sell falls on or after January 1 of the report's local year
 *   (the start of that local day) and at or before the window's end.
 * - Term: `termOf` on the local buy and sell dates. SQL sums pnl_usd (numeric) per pair of
 *   local dates; the pairs' exact sums are added per term with Exact. Unmatched slices (no
 *   buy_time: no lot, no holding period) are counted apart, in neither term.
 * - Turning long-term: an open lot (remaining_size > 0) still short-term if sold on the
 *   report's local date, long-term if sold 30 days later. Unrealized PnL = remaining_size ×
 *   mark - remaining_cost_usd where the symbol has a mark; else "no mark".
 */
import type pg from 'pg';
import { numericText, utcText } from '../db/sql.ts';
import {
  type CalendarDate,
  isoDate,
  localCalendarDate,
  parseIsoDate,
  startOfLocalDay,
} from '../tax/calendar.ts';
import { anniversary, termOf } from '../tax/holding.ts';
import { Exact, minus, times } from './exact.ts';

export const TAX_YTD_TITLE = 'Tax year to date';
/** Days ahead in which a lot turning long-term is listed. */
export const TURNING_DAYS = 30;

export interface TermTotal {
  /** Σ pnl_usd, exact. */
  readonly realizedPnl: string;
  /** Allocation rows (lot slices). */
  readonly slices: number;
}

export interface TurningLot {
  readonly buyOrderId: string;
  readonly symbol: string;
  /** Canonical UTC text. */
  readonly buyTime: string;
  /** Local acquisition date. */
  readonly acquired: string;
  /** The first local date a sale of it would be long-term (the day after the anniversary). */
  readonly longTermFrom: string;
  readonly remainingSize: string;
  readonly remainingCost: string;
  /** The symbol's mark; null when it has none. */
  readonly mark: string | null;
  /** remainingSize × mark - remainingCost, exact; null without a mark. */
  readonly unrealizedPnl: string | null;
}

export interface TaxYtd {
  readonly year: number;
  /** First local date counted (January 1). */
  readonly from: string;
  /** The report's local date. */
  readonly through: string;
  readonly timeZone: string;
  readonly shortTerm: TermTotal;
  readonly longTerm: TermTotal;
  /** Slices with no lot: in neither term. */
  readonly unmatched: TermTotal;
  readonly turning: {
    readonly days: number;
    /** Soonest first. */
    readonly lots: TurningLot[];
    /** Σ unrealized PnL of the lots with a mark, exact. */
    readonly unrealizedPnl: string;
    readonly marked: number;
    readonly unmarked: number;
  };
}

export interface TaxYtdInput {
  readonly version: number;
  /** The window's end, canonical UTC text. */
  readonly end: string;
  readonly timeZone: string;
  /** Mark price per symbol (exact text), e.g. from the market section. */
  readonly marks: ReadonlyMap<string, string>;
}

const addDays = (d: CalendarDate, days: number): CalendarDate => {
  const at = new Date(0);
  at.setUTCFullYear(d.year, d.month - 1, d.day + days);
  return { year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, day: at.getUTCDate() };
};

const date = (text: string): CalendarDate => {
  const d = parseIsoDate(text);
  if (!d) throw new RangeError(`"${text}" is not a calendar date`);
  return d;
};

export async function readTaxYtd(q: pg.ClientBase, input: TaxYtdInput): Promise<TaxYtd> {
  const { version, end, timeZone, marks } = input;
  const today = localCalendarDate(end, timeZone);
  const yearStart = { year: today.year, month: 1, day: 1 };
  const from = startOfLocalDay(yearStart, timeZone).toISOString();

  const { rows } = await q.query<{ bought: string | null; sold: string; pnl: string; slices: string }>(
    `SELECT to_char(buy_time AT TIME ZONE $4, 'YYYY-MM-DD') AS bought,
            to_char(sell_time AT TIME ZONE $4, 'YYYY-MM-DD') AS sold,
            coalesce(trim_scale(sum(pnl_usd)), 0)::text AS pnl, count(*)::text AS slices
     FROM fifo_allocations
     WHERE allocation_version = $1 AND sell_time >= $2::timestamptz AND sell_time <= $3::timestamptz
     GROUP BY 1, 2`,
    [version, from, end, timeZone],
  );
  const totals = {
    short: [new Exact(0), 0],
    long: [new Exact(0), 0],
    unmatched: [new Exact(0), 0],
  } as Record<'short' | 'long' | 'unmatched', [Exact, number]>;
  for (const r of rows) {
    const key = r.bought === null ? 'unmatched' : termOf(date(r.bought), date(r.sold));
    const t = totals[key];
    t[0] = t[0].plus(r.pnl);
    t[1] += Number(r.slices);
  }
  const total = (key: keyof typeof totals): TermTotal => ({
    realizedPnl: totals[key][0].toFixed(),
    slices: totals[key][1],
  });

  // Candidates in SQL by a loose instant range (any zone's offset fits in the margin), then the
  // exact rule on local dates.
  const { rows: lots } = await q.query<{
    buy_order_id: string;
    symbol: string;
    buy_time: string;
    size: string;
    cost: string;
  }>(
    `SELECT buy_order_id, symbol, ${utcText('buy_time')} AS buy_time,
            ${numericText('remaining_size')} AS size, ${numericText('remaining_cost_usd')} AS cost
     FROM fifo_lots
     WHERE allocation_version = $1 AND remaining_size > 0
       AND buy_time >= $2::timestamptz - interval '1 year 3 days'
       AND buy_time <= $2::timestamptz - interval '1 year' + interval '${TURNING_DAYS + 3} days'
     ORDER BY buy_time, buy_order_id COLLATE "C"`,
    [version, end],
  );
  const horizon = addDays(today, TURNING_DAYS);
  const turning: TurningLot[] = [];
  for (const l of lots) {
    const acquired = localCalendarDate(l.buy_time, timeZone);
    if (termOf(acquired, today) !== 'short' || termOf(acquired, horizon) !== 'long') continue;
    const mark = marks.get(l.symbol) ?? null;
    turning.push({
      buyOrderId: l.buy_order_id,
      symbol: l.symbol,
      buyTime: l.buy_time,
      acquired: isoDate(acquired),
      longTermFrom: isoDate(addDays(anniversary(acquired), 1)),
      remainingSize: l.size,
      remainingCost: l.cost,
      mark,
      unrealizedPnl: mark === null ? null : minus(times(l.size, mark), l.cost),
    });
  }
  turning.sort((a, b) => (a.longTermFrom < b.longTermFrom ? -1 : a.longTermFrom > b.longTermFrom ? 1 : 0));
  const marked = turning.filter((l) => l.unrealizedPnl !== null);
  const unrealizedPnl = marked.reduce((s, l) => s.plus(l.unrealizedPnl!), new Exact(0)).toFixed();

  return {
    year: today.year,
    from: isoDate(yearStart),
    through: isoDate(today),
    timeZone,
    shortTerm: total('short'),
    longTerm: total('long'),
    unmatched: total('unmatched'),
    turning: {
      days: TURNING_DAYS,
      lots: turning,
      unrealizedPnl,
      marked: marked.length,
      unmarked: turning.length - marked.length,
    },
  };
}

/** "2 lots turn long-term within 30 days, unrealized gain +12.50 at the marks". */
export function turningSummary(t: TaxYtd['turning'], signedMoney: (v: string) => string): string {
  const n = t.lots.length;
  if (n === 0) return `No open lots turn long-term within ${t.days} days.`;
  const lots = `${n} ${n === 1 ? 'lot turns' : 'lots turn'} long-term within ${t.days} days`;
  if (t.marked === 0) return `${lots}, unrealized gain: no mark.`;
  return (
    `${lots}, unrealized gain ${signedMoney(t.unrealizedPnl)} USD at the marks` +
    (t.unmarked ? ` (${t.unmarked} without a mark: no mark).` : '.')
  );
}
