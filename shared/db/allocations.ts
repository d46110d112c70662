/** fifo_allocations: the slices of every sell, per version. */
import type pg from 'pg';
import { ALLOCATION_COLUMNS, type AllocationRow, parseScaled, QTY_SCALE } from '../fifo/index.ts';
import { ALLOCATIONS } from '../tables/allocations.ts';
import { bulkTarget } from './bulk.ts';
import { canonicalSelect } from './sql.ts';

/** The engine's row columns, then allocation_version and allocation_batch_id. */
export const ALLOCATION_TARGET = bulkTarget(ALLOCATIONS);

export function allocationValues(row: AllocationRow, version: number, batchId: string): (string | null)[] {
  // One array per row, filled in place: this runs once per allocation on a full rebuild.
  const values: (string | null)[] = new Array(ALLOCATION_COLUMNS.length + 2);
  for (let i = 0; i < ALLOCATION_COLUMNS.length; i++) values[i] = row[ALLOCATION_COLUMNS[i]!];
  values[ALLOCATION_COLUMNS.length] = String(version);
  values[ALLOCATION_COLUMNS.length + 1] = batchId;
  return values;
}

/** A stored allocation's identity within a version: one row per (sell, lot); null lot = unmatched. */
export const allocationKey = (row: Pick<AllocationRow, 'sell_order_id' | 'buy_order_id'>): string =>
  `${row.sell_order_id}\u0000${row.buy_order_id ?? ''}`;

/** The engine's row columns of fifo_allocations as canonical text, each under its own name. */
export const ALLOCATION_SELECT = canonicalSelect(ALLOCATIONS);

export interface StoredAllocation extends AllocationRow {
  readonly id: string;
}

/** A symbol's stored allocations in canonical text, for comparison with computed rows. */
export async function readStoredAllocations(
  client: pg.ClientBase,
  version: number,
  symbol: string,
): Promise<StoredAllocation[]> {
  const { rows } = await client.query<StoredAllocation>(
    `SELECT id::text AS id, ${ALLOCATION_SELECT} FROM fifo_allocations
     WHERE allocation_version = $1 AND symbol = $2`,
    [version, symbol],
  );
  return rows;
}

export async function deleteAllocationsById(client: pg.ClientBase, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query('DELETE FROM fifo_allocations WHERE id = ANY($1::bigint[])', [ids]);
}

/**
 * Removes the allocations of a symbol's sells at or after `fromTime` and gives their slices
 * back to the lots they came from (lots bought before `fromTime`; later lots are rebuilt).
 * This is the only place slices are given back. It is exact by FIFO rule 4 (README, "The FIFO
 * rules": a lot's remaining cost plus the cost bases of its slices is its total cost, and its
 * remaining size plus the slices' sizes its size): adding the stored slices back gives the lot
 * exactly the state it had before they were taken, to the stored quantum, so the replay that
 * follows continues as if from that point. test/db/incremental-equals-full.test.ts holds it.
 */
export async function removeAllocationsFrom(
  client: pg.ClientBase,
  version: number,
  symbol: string,
  fromTime: string,
): Promise<{ removed: number; restoredBuys: string[] }> {
  const { rows } = await client.query<{ removed: string; restored: string[] }>(
    `WITH removed AS (
       DELETE FROM fifo_allocations
       WHERE allocation_version = $1 AND symbol = $2 AND sell_time >= $3::timestamptz
       RETURNING buy_order_id, allocated_size, cost_basis_usd
     ), given AS (
       SELECT buy_order_id, sum(allocated_size) AS size, sum(cost_basis_usd) AS cost
       FROM removed WHERE buy_order_id IS NOT NULL GROUP BY buy_order_id
     ), restored AS (
       UPDATE fifo_lots l
       SET remaining_size = l.remaining_size + g.size,
           remaining_cost_usd = l.remaining_cost_usd + g.cost,
           updated_at = now()
       FROM given g
       WHERE l.allocation_version = $1 AND l.buy_order_id = g.buy_order_id AND l.buy_time < $3::timestamptz
       RETURNING l.buy_order_id
     )
     SELECT (SELECT count(*) FROM removed)::text AS removed,
            ARRAY(SELECT buy_order_id::text FROM restored) AS restored`,
    [version, symbol, fromTime],
  );
  return {
    removed: Number(rows[0]!.removed),
    restoredBuys: rows[0]!.restored,
  };
}

/**
 * Deletes a version's allocations of these sells stored under any symbol but `symbol`: the
 * sells moved to `symbol`. Returns the deleted rows' pnl (QTY_SCALE; unmatched rows count 0).
 */
export async function deleteSellsOfOtherSymbols(
  client: pg.ClientBase,
  version: number,
  symbol: string,
  sells: readonly string[],
): Promise<bigint[]> {
  if (sells.length === 0) return [];
  const { rows } = await client.query<{ pnl: string | null }>(
    `DELETE FROM fifo_allocations
     WHERE allocation_version = $1 AND symbol <> $2 AND sell_order_id = ANY($3::varchar[])
     RETURNING trim_scale(pnl_usd)::text AS pnl`,
    [version, symbol, sells],
  );
  return rows.map((r) => (r.pnl === null ? 0n : parseScaled(r.pnl, QTY_SCALE)));
}
