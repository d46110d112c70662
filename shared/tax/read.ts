/**
 * The SQL of the tax report: one version's allocations sold in (or just around) a tax year,
 * as the engine's canonical text, in one query (so one snapshot).
 *
 * Which local year a sale belongs to is decided in TypeScript, with Intl (./calendar.ts),
 * the same way for every row: the query reads the year with two days to spare on each side
 * in UTC (offsets are within -12 h .. +14 h), and ./rows.ts keeps the slices of the year.
 * PostgreSQL's zone data is never asked, so the two tz databases cannot disagree about a row.
 */
import type pg from 'pg';
import { ALLOCATION_SELECT } from '../db/allocations.ts';
import type { AllocationRow } from '../fifo/index.ts';

/** The UTC instants read for a tax year: [Dec 30 before, Jan 3 after). */
export function readBounds(year: number): { from: string; to: string } {
  const at = (y: number, month: number, day: number) =>
    new Date(new Date(0).setUTCFullYear(y, month - 1, day)).toISOString();
  return { from: at(year - 1, 12, 30), to: at(year + 1, 1, 3) };
}

/** The version's allocations sold in the UTC bounds of the year, in sell order. */
export async function readYearAllocations(
  db: pg.Pool | pg.ClientBase,
  version: number,
  year: number,
): Promise<AllocationRow[]> {
  const { from, to } = readBounds(year);
  const { rows } = await db.query<AllocationRow>(
    `SELECT ${ALLOCATION_SELECT} FROM fifo_allocations
     WHERE allocation_version = $1 AND sell_time >= $2::timestamptz AND sell_time < $3::timestamptz
     ORDER BY sell_time, sell_order_id COLLATE "C", buy_time NULLS LAST, buy_order_id COLLATE "C"`,
    [version, from, to],
  );
  return rows;
}
