/** fifo_lots: every buy's lot state per version. */
import type pg from 'pg';
import {
  LOT_COLUMNS,
  type Lot,
  type LotRow,
  PER_UNIT_SCALE,
  parseScaled,
  QTY_SCALE,
  USD_SCALE,
} from '../fifo/index.ts';
import { LOTS } from '../tables/lots.ts';
import { column } from '../tables/spec.ts';
import { bulkTarget } from './bulk.ts';
import { canonicalSelect } from './sql.ts';

/** The engine's row columns, then allocation_version and allocation_batch_id. */
export const LOT_TARGET = bulkTarget(LOTS);

export function lotValues(row: LotRow, version: number, batchId: string): (string | null)[] {
  // One array per row, filled in place: this runs once per lot on a first build.
  const values: (string | null)[] = new Array(LOT_COLUMNS.length + 2);
  for (let i = 0; i < LOT_COLUMNS.length; i++) values[i] = row[LOT_COLUMNS[i]!];
  values[LOT_COLUMNS.length] = String(version);
  values[LOT_COLUMNS.length + 1] = batchId;
  return values;
}

const LOT_SELECT = canonicalSelect(LOTS);

function toLot(row: LotRow): Lot {
  return {
    buyOrderId: row.buy_order_id,
    symbol: row.symbol,
    buyTime: row.buy_time,
    buyPrice: parseScaled(row.buy_price, QTY_SCALE),
    buyFeesPerUnit: parseScaled(row.buy_fees_per_unit, PER_UNIT_SCALE),
    size: parseScaled(row.size, QTY_SCALE),
    remaining: parseScaled(row.remaining_size, QTY_SCALE),
    remainingCost: parseScaled(row.remaining_cost_usd, USD_SCALE),
  };
}

/** A symbol's stored lots in canonical text, for comparison with computed lots. */
export async function readStoredLots(
  client: pg.ClientBase,
  version: number,
  symbol: string,
): Promise<LotRow[]> {
  const { rows } = await client.query<LotRow>(
    `SELECT ${LOT_SELECT} FROM fifo_lots WHERE allocation_version = $1 AND symbol = $2`,
    [version, symbol],
  );
  return rows;
}

/** The open lots of a symbol bought before `before` (all open lots when null), oldest first. */
export async function loadOpenLots(
  client: pg.ClientBase,
  version: number,
  symbol: string,
  before: string | null,
): Promise<Lot[]> {
  const { rows } = await client.query<LotRow>(
    `SELECT ${LOT_SELECT} FROM fifo_lots
     WHERE allocation_version = $1 AND symbol = $2 AND remaining_size > 0
       AND ($3::timestamptz IS NULL OR buy_time < $3::timestamptz)
     ORDER BY buy_time, buy_order_id COLLATE "C"`,
    [version, symbol, before],
  );
  return rows.map(toLot);
}

/**
 * Inserts or replaces lots: the row's columns come as text arrays ($3 on), cast to their
 * types; a lot already stored under its (version, buy) key takes the new values.
 */
const UPSERT_LOTS = `INSERT INTO fifo_lots (allocation_version, allocation_batch_id, ${LOT_COLUMNS.join(', ')})
  SELECT $1, $2::uuid, ${LOT_COLUMNS.map((c) => `u.${c}::${column(LOTS, c).type}`).join(', ')}
  FROM unnest(${LOT_COLUMNS.map((_, i) => `$${i + 3}::text[]`).join(', ')}) AS u(${LOT_COLUMNS.join(', ')})
  ON CONFLICT (allocation_version, buy_order_id) DO UPDATE SET
    ${LOT_COLUMNS.filter((c) => c !== 'buy_order_id')
      .map((c) => `${c} = EXCLUDED.${c}`)
      .join(', ')},
    allocation_batch_id = EXCLUDED.allocation_batch_id, updated_at = now()`;

export async function upsertLots(
  client: pg.ClientBase,
  version: number,
  lots: readonly LotRow[],
  batchId: string,
): Promise<void> {
  for (let start = 0; start < lots.length; start += 5_000) {
    const batch = lots.slice(start, start + 5_000);
    await client.query(UPSERT_LOTS, [version, batchId, ...LOT_COLUMNS.map((c) => batch.map((l) => l[c]))]);
  }
}

export async function deleteLotsById(
  client: pg.ClientBase,
  version: number,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await client.query(
    'DELETE FROM fifo_lots WHERE allocation_version = $1 AND buy_order_id = ANY($2::varchar[])',
    [version, ids],
  );
}

/** Drops a symbol's lots bought at or after `fromTime` (all of them when null): they are rebuilt. */
export async function deleteLotsFrom(
  client: pg.ClientBase,
  version: number,
  symbol: string,
  fromTime: string | null,
): Promise<number> {
  const { rowCount } = await client.query(
    `DELETE FROM fifo_lots WHERE allocation_version = $1 AND symbol = $2
       AND ($3::timestamptz IS NULL OR buy_time >= $3::timestamptz)`,
    [version, symbol, fromTime],
  );
  return rowCount ?? 0;
}
