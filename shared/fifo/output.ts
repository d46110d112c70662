/**
 * The engine's results as text: every number a canonical decimal string, null as null.
 * Shared by `fifo replay`, the database writers and the tests, so every path formats alike.
 */
import { formatPerUnit, formatQty, formatUsd } from './decimal.ts';
import type { Allocation, Lot } from './types.ts';

export const ALLOCATION_COLUMNS = [
  'sell_order_id',
  'buy_order_id',
  'symbol',
  'allocated_size',
  'buy_price',
  'sell_price',
  'buy_fees_per_unit',
  'sell_fees_per_unit',
  'cost_basis_usd',
  'proceeds_usd',
  'net_proceeds_usd',
  'pnl_usd',
  'buy_time',
  'sell_time',
  'notes',
] as const;

export type AllocationRow = Record<(typeof ALLOCATION_COLUMNS)[number], string | null>;

/**
 * The columns of fifo_allocations and fifo_lots whose values are free text (ids, symbols,
 * notes): any character may stand in them. Every other column holds the engine's numbers or
 * canonical times (digits, ".", "-", ":", "T" and "Z" only).
 */
export const FREE_TEXT_COLUMNS: ReadonlySet<string> = new Set([
  'sell_order_id',
  'buy_order_id',
  'symbol',
  'notes',
]);

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

export interface LotRow {
  buy_order_id: string;
  symbol: string;
  size: string;
  remaining_size: string;
  remaining_cost_usd: string;
}

export function lotRow(lot: Lot): LotRow {
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
