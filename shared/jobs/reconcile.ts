/**
 * Comparing computed rows with stored ones: which to insert, delete or replace, and how much
 * PnL differs. Pure; the full rebuild feeds it one symbol at a time.
 */

import { allocationKey, type StoredAllocation } from '../db/allocations.ts';
import { LOT_COLUMNS, type LotText } from '../db/lots.ts';
import {
  ALLOCATION_COLUMNS,
  type AllocationRow,
  formatScaled,
  parseScaled,
  QTY_SCALE,
} from '../fifo/index.ts';

export interface AllocationDiff {
  readonly insert: AllocationRow[];
  /** Ids of stored rows to delete (removed, or replaced by a changed row). */
  readonly deleteIds: string[];
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  /** Σ |computed pnl − stored pnl| over differing rows, a missing row counting 0 (QTY_SCALE). */
  readonly pnlDifference: bigint;
}

const pnlOf = (row: AllocationRow | undefined): bigint =>
  row?.pnl_usd == null ? 0n : parseScaled(row.pnl_usd, QTY_SCALE);
const abs = (v: bigint) => (v < 0n ? -v : v);

export function diffAllocations(
  computed: readonly AllocationRow[],
  stored: readonly StoredAllocation[],
): AllocationDiff {
  const byKey = new Map<string, StoredAllocation>();
  for (const row of stored) byKey.set(allocationKey(row), row);
  const insert: AllocationRow[] = [];
  const deleteIds: string[] = [];
  let added = 0;
  let changed = 0;
  let pnlDifference = 0n;
  for (const row of computed) {
    const key = allocationKey(row);
    const old = byKey.get(key);
    if (old === undefined) {
      added++;
      insert.push(row);
      pnlDifference += abs(pnlOf(row));
      continue;
    }
    byKey.delete(key);
    if (ALLOCATION_COLUMNS.every((c) => old[c] === row[c])) continue;
    changed++;
    deleteIds.push(old.id);
    insert.push(row);
    pnlDifference += abs(pnlOf(row) - pnlOf(old));
  }
  for (const old of byKey.values()) {
    deleteIds.push(old.id);
    pnlDifference += abs(pnlOf(old));
  }
  return { insert, deleteIds, added, removed: byKey.size, changed, pnlDifference };
}

export interface LotDiff {
  readonly upsert: LotText[];
  readonly deleteIds: string[];
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
}

export function diffLots(computed: readonly LotText[], stored: readonly LotText[]): LotDiff {
  const byId = new Map(stored.map((lot) => [lot.buy_order_id, lot]));
  const upsert: LotText[] = [];
  let added = 0;
  let changed = 0;
  for (const lot of computed) {
    const old = byId.get(lot.buy_order_id);
    if (old === undefined) {
      added++;
      upsert.push(lot);
      continue;
    }
    byId.delete(lot.buy_order_id);
    if (LOT_COLUMNS.every((c) => old[c] === lot[c])) continue;
    changed++;
    upsert.push(lot);
  }
  return { upsert, deleteIds: [...byId.keys()], added, removed: byId.size, changed };
}

export const formatPnlDifference = (value: bigint): string => formatScaled(value, QTY_SCALE);
