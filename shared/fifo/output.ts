/**
 * The engine's results as text: every number a canonical decimal string, null as null.
 * Shared by `fifo replay`, the database writers and the tests, so every path formats alike.
 */
import { ALLOCATIONS } from '../tables/allocations.ts';
import { LOTS } from '../tables/lots.ts';
import { isFreeText, type RowColumn, rowColumns, writtenColumns } from '../tables/spec.ts';
import { formatPerUnit, formatQty, formatUsd } from './decimal.ts';
import type { Allocation, Lot } from './types.ts';

/** fifo_allocations' columns that hold the engine's results, in the table's order. */
export const ALLOCATION_COLUMNS = rowColumns(ALLOCATIONS);

export type AllocationRow = Record<RowColumn<typeof ALLOCATIONS>, string | null>;

/** fifo_lots' columns that hold a lot's state, in the table's order. */
export const LOT_COLUMNS = rowColumns(LOTS);

/** A lot as fifo_lots stores it, every value canonical text. */
export type LotRow = Record<RowColumn<typeof LOTS>, string>;

/**
 * The columns of fifo_allocations and fifo_lots whose values are free text (ids, symbols,
 * notes): any character may stand in them. Every other column holds the engine's numbers or
 * canonical times (digits, ".", "-", ":", "T" and "Z" only).
 */
export const FREE_TEXT_COLUMNS: ReadonlySet<string> = new Set(
  [...writtenColumns(ALLOCATIONS), ...writtenColumns(LOTS)].filter(isFreeText).map((c) => c.name),
);

const orNull = <T>(value: T | null, format: (v: T) => string): string | null =>
  value === null ? null : format(value);

export function allocationRow(a: Allocation): AllocationRow {
  return {
    sell_order_id: a.sellOrderId,
    buy_order_id: a.buyOrderId,
    symbol: a.symbol,
    allocated_size: formatQty(a.allocatedSize),
    buy_price: orNull(a.buyPrice, formatQty),
    sell_price: formatQty(a.sellPrice),
    buy_fees_per_unit: orNull(a.buyFeesPerUnit, formatPerUnit),
    sell_fees_per_unit: formatPerUnit(a.sellFeesPerUnit),
    cost_basis_usd: orNull(a.costBasis, formatUsd),
    proceeds_usd: formatUsd(a.proceeds),
    net_proceeds_usd: formatUsd(a.netProceeds),
    pnl_usd: orNull(a.pnl, formatUsd),
    buy_time: a.buyTime,
    sell_time: a.sellTime,
    notes: a.notes,
  };
}

export function lotRow(lot: Lot): LotRow {
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

/** What `fifo replay` prints of a lot: its size and what remains of it. */
export type LotSummary = Pick<
  LotRow,
  'buy_order_id' | 'symbol' | 'size' | 'remaining_size' | 'remaining_cost_usd'
>;

export function lotSummary(lot: Lot): LotSummary {
  return {
    buy_order_id: lot.buyOrderId,
    symbol: lot.symbol,
    size: formatQty(lot.size),
    remaining_size: formatQty(lot.remaining),
    remaining_cost_usd: formatUsd(lot.remainingCost),
  };
}

/** Σ pnl of matched slices (unmatched slices have no pnl). */
export function realizedPnl(allocations: readonly Allocation[]): bigint {
  let total = 0n;
  for (const a of allocations) if (a.pnl !== null) total += a.pnl;
  return total;
}

/** Number of distinct sells with an unmatched remainder. */
export function unmatchedSellCount(allocations: readonly Allocation[]): number {
  const sells = new Set<string>();
  for (const a of allocations) if (a.buyOrderId === null) sells.add(a.sellOrderId);
  return sells.size;
}
