/**
 * Comparing computed rows with stored ones: which to insert, delete or replace, and how much
 * PnL differs. Pure; the full rebuild feeds it one symbol at a time.
 */

import { allocationKey, type StoredAllocation } from '../db/allocations.ts';
import {
  ALLOCATION_COLUMNS,
  type AllocationRow,
  formatScaled,
  LOT_COLUMNS,
  type LotRow,
  parseScaled,
  QTY_SCALE,
} from '../fifo/index.ts';

export interface AllocationDiff {
  readonly insert: AllocationRow[];
  /** Ids of stored rows to delete (removed, or replaced by a changed row). */
  readonly deleteIds: string[];
  /** Drift: differing rows the consumed changes do not explain. */
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  /** Σ |computed pnl − stored pnl| over the drift rows, a missing row counting 0 (QTY_SCALE). */
  readonly pnlDifference: bigint;
  /** Differing rows of sells at or after `pendingFrom`: pending changes, applied, not drift. */
  readonly pendingRows: number;
  readonly pendingPnlDifference: bigint;
}

const pnlOf = (row: AllocationRow | undefined): bigint =>
  row?.pnl_usd == null ? 0n : parseScaled(row.pnl_usd, QTY_SCALE);
const abs = (v: bigint) => (v < 0n ? -v : v);

/**
 * Compares one symbol's computed rows with its stored ones. `pendingFrom` is the earliest
 * order_time of the symbol's changes not yet consumed (README, "Safety": pending changes are not
 * drift): a row of a sell at or after it differs because of those changes, and the rebuild
 * applies it as an incremental run would; a sell before it no pending change can touch (FIFO
 * never takes from a later buy), so a difference there is drift.
 */
export function diffAllocations(
  computed: readonly AllocationRow[],
  stored: readonly StoredAllocation[],
  pendingFrom: string | null = null,
): AllocationDiff {
  const byKey = new Map<string, StoredAllocation>();
  for (const row of stored) byKey.set(allocationKey(row), row);
  const insert: AllocationRow[] = [];
  const deleteIds: string[] = [];
  const drift = { added: 0, removed: 0, changed: 0, pnl: 0n };
  const pending = { rows: 0, pnl: 0n };
  const isPending = (...rows: (AllocationRow | undefined)[]) =>
    pendingFrom !== null && rows.some((r) => r !== undefined && r.sell_time! >= pendingFrom);
  /** Counts one differing row as pending or as drift of `kind`, with its PnL difference. */
  const count = (kind: 'added' | 'removed' | 'changed', pnl: bigint, ...rows: AllocationRow[]) => {
    if (isPending(...rows)) {
      pending.rows++;
      pending.pnl += abs(pnl);
    } else {
      drift[kind]++;
      drift.pnl += abs(pnl);
    }
  };
  for (const row of computed) {
    const key = allocationKey(row);
    const old = byKey.get(key);
    if (old === undefined) {
      insert.push(row);
      count('added', pnlOf(row), row);
      continue;
    }
    byKey.delete(key);
    if (ALLOCATION_COLUMNS.every((c) => old[c] === row[c])) continue;
    deleteIds.push(old.id);
    insert.push(row);
    count('changed', pnlOf(row) - pnlOf(old), row, old);
  }
  for (const old of byKey.values()) {
    deleteIds.push(old.id);
    count('removed', pnlOf(old), old);
  }
  return {
    insert,
    deleteIds,
    added: drift.added,
    removed: drift.removed,
    changed: drift.changed,
    pnlDifference: drift.pnl,
    pendingRows: pending.rows,
    pendingPnlDifference: pending.pnl,
  };
}

export interface LotDiff {
  readonly upsert: LotRow[];
  readonly deleteIds: string[];
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
}

export function diffLots(computed: readonly LotRow[], stored: readonly LotRow[]): LotDiff {
  const byId = new Map(stored.map((lot) => [lot.buy_order_id, lot]));
  const upsert: LotRow[] = [];
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
