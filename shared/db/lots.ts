/** fifo_lots: every buy's lot state per version. */
import type pg from 'pg';
import {
  formatPerUnit,
  formatQty,
  formatUsd,
  type Lot,
  PER_UNIT_SCALE,
  parseScaled,
  QTY_SCALE,
  USD_SCALE,
} from '../fifo/index.ts';
import type { BulkTarget } from './bulk.ts';
import { canonicalSelect } from './sql.ts';

export const LOT_COLUMNS = [
  'buy_order_id',
  'symbol',
  'buy_time',
  'buy_price',
  'buy_fees_per_unit',
  'size',
  'remaining_size',
  'remaining_cost_usd',
] as const;

export type LotText = Record<(typeof LOT_COLUMNS)[number], string>;

export const LOT_TARGET: BulkTarget = {
  table: 'fifo_lots',
  columns: [...LOT_COLUMNS, 'allocation_version', 'allocation_batch_id'],
  types: [
    'varchar',
    'varchar',
    'timestamptz',
    'numeric',
    'numeric',
    'numeric',
    'numeric',
    'numeric',
    'int',
    'uuid',
  ],
};

export function lotText(lot: Lot): LotText {
  return {
    buy_order_id: lot.buyOrderId,
    symbol: lot.symbol,
    buy_time: lot.buyTime,
    buy_price: formatQty(lot.buyPrice),
    buy_fees_per_unit: formatPerUnit(lot.buyFeesPerUnit),
    size: formatQty(lot.size),
    remaining_size: formatQty(lot.remaining),
    remaining_cost_usd: formatUsd(lot.remainingCost),
  };
}

export function lotValues(text: LotText, version: number, batchId: string): (string | null)[] {
  // One array per row, filled in place: this runs once per lot on a first build.
  const values: (string | null)[] = new Array(LOT_COLUMNS.length + 2);
  for (let i = 0; i < LOT_COLUMNS.length; i++) values[i] = text[LOT_COLUMNS[i]!];
  values[LOT_COLUMNS.length] = String(version);
  values[LOT_COLUMNS.length + 1] = batchId;
  return values;
}

const LOT_SELECT = canonicalSelect(LOT_COLUMNS);

function toLot(row: LotText): Lot {
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
): Promise<LotText[]> {
  const { rows } = await client.query<LotText>(
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
  const { rows } = await client.query<LotText>(
    `SELECT ${LOT_SELECT} FROM fifo_lots
     WHERE allocation_version = $1 AND symbol = $2 AND remaining_size > 0
       AND ($3::timestamptz IS NULL OR buy_time < $3::timestamptz)
     ORDER BY buy_time, buy_order_id COLLATE "C"`,
    [version, symbol, before],
  );
  return rows.map(toLot);
}

/** Inserts or replaces lots. */
export async function upsertLots(
  client: pg.ClientBase,
  version: number,
  lots: readonly LotText[],
  batchId: string,
): Promise<void> {
  for (let start = 0; start < lots.length; start += 5_000) {
    const batch = lots.slice(start, start + 5_000);
    const column = (c: (typeof LOT_COLUMNS)[number]) => batch.map((l) => l[c]);
    await client.query(
      `INSERT INTO fifo_lots (allocation_version, allocation_batch_id, ${LOT_COLUMNS.join(', ')})
       SELECT $1, $2::uuid, u.buy_order_id, u.symbol, u.buy_time::timestamptz, u.buy_price::numeric,
              u.buy_fees_per_unit::numeric, u.size::numeric, u.remaining_size::numeric, u.remaining_cost_usd::numeric
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS u(buy_order_id, symbol, buy_time, buy_price, buy_fees_per_unit, size, remaining_size, remaining_cost_usd)
       ON CONFLICT (allocation_version, buy_order_id) DO UPDATE SET
         symbol = EXCLUDED.symbol, buy_time = EXCLUDED.buy_time, buy_price = EXCLUDED.buy_price,
         buy_fees_per_unit = EXCLUDED.buy_fees_per_unit, size = EXCLUDED.size,
         remaining_size = EXCLUDED.remaining_size, remaining_cost_usd = EXCLUDED.remaining_cost_usd,
         allocation_batch_id = EXCLUDED.allocation_batch_id, updated_at = now()`,
      [version, batchId, ...LOT_COLUMNS.map(column)],
    );
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
