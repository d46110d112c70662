/**
 * Reconciliation with the broker's Form 1099-DA. It reads, compares and reports; it never
 * changes a row or a total of the tax report: the operator decides what a difference means.
 *
 * fifo-ledger's side is its disposals: one per sell, the sum of the sell's slices in the year
 * (quantity, proceeds (d), cost basis (e)). Both sides are grouped by asset and sale date; in a
 * group, a broker row and a disposal of the same quantity are paired, where they can be. Then:
 *
 * - a broker row is unmatched when fifo-ledger has no sale of that asset on that day;
 * - a sell is unmatched when the broker has no row for that asset on that day;
 * - every asset and day gets its differences, broker minus fifo-ledger, in quantity, proceeds
 *   and (where the broker gave a basis for each of its rows that day) cost basis.
 *
 * Proceeds are compared with column (d), net of the sell fee: Form 1099-DA reports gross
 * proceeds less the transaction costs allocable to the sale.
 */
import type { BrokerRow } from './broker-csv.ts';
import { isoDate } from './calendar.ts';
import { MISSING_BASIS, type TaxRow } from './rows.ts';

/** One sell as fifo-ledger reports it: all its slices of the year. */
export interface Disposal {
  readonly sellOrderId: string;
  readonly asset: string;
  /** YYYY-MM-DD in the taxpayer's zone. */
  readonly date: string;
  readonly quantity: bigint;
  readonly proceeds: bigint;
  /** Σ (e) of the slices that have one. */
  readonly costBasis: bigint;
  /** A slice without a lot: its basis is not in costBasis. */
  readonly missingBasis: boolean;
  readonly explain: string;
}

export interface ReconciliationDay {
  readonly asset: string;
  readonly date: string;
  readonly brokerRows: number;
  readonly sells: number;
  /** Broker rows paired with a sell of exactly the same quantity. */
  readonly pairedByQuantity: number;
  readonly brokerQuantity: bigint;
  readonly fifoQuantity: bigint;
  readonly brokerProceeds: bigint;
  readonly fifoProceeds: bigint;
  /** Null unless every broker row of the day gave a basis. */
  readonly brokerBasis: bigint | null;
  readonly fifoBasis: bigint;
  /** A sell of the day has a slice without a lot, so fifoBasis lacks it. */
  readonly fifoMissingBasis: boolean;
  /** broker - fifo-ledger. */
  readonly quantityDifference: bigint;
  readonly proceedsDifference: bigint;
  readonly basisDifference: bigint | null;
}

export interface UnmatchedBrokerRow {
  readonly row: BrokerRow;
  readonly reason: string;
}

export interface Reconciliation {
  readonly brokerRows: number;
  readonly sells: number;
  readonly pairedByQuantity: number;
  readonly unmatchedBrokerRows: UnmatchedBrokerRow[];
  readonly unmatchedSells: Disposal[];
  /** Every asset and day either side has, by date then asset. */
  readonly days: ReconciliationDay[];
}

/** The year's sells, one per sell order, in the rows' order. */
export function disposals(rows: readonly TaxRow[]): Disposal[] {
  const bySell = new Map<string, Disposal>();
  for (const row of rows) {
    const seen = bySell.get(row.sellOrderId);
    const missing = row.flag === MISSING_BASIS;
    // Under zero-basis a missing basis reads 0; it is still missing.
    const basis = missing ? 0n : (row.costBasis ?? 0n);
    bySell.set(
      row.sellOrderId,
      seen
        ? {
            ...seen,
            quantity: seen.quantity + row.quantity,
            proceeds: seen.proceeds + row.proceeds,
            costBasis: seen.costBasis + basis,
            missingBasis: seen.missingBasis || missing,
          }
        : {
            sellOrderId: row.sellOrderId,
            asset: row.asset.toUpperCase(),
            date: isoDate(row.sold),
            quantity: row.quantity,
            proceeds: row.proceeds,
            costBasis: basis,
            missingBasis: missing,
            explain: row.explain,
          },
    );
  }
  return [...bySell.values()];
}

const groupKey = (asset: string, date: string) => `${date}\u0000${asset}`;

export function reconcileBroker(
  brokerRows: readonly BrokerRow[],
  rows: readonly TaxRow[],
  year: number,
): Reconciliation {
  const sells = disposals(rows);
  const groups = new Map<string, { asset: string; date: string; broker: BrokerRow[]; sells: Disposal[] }>();
  const group = (asset: string, date: string) => {
    const key = groupKey(asset, date);
    let g = groups.get(key);
    if (!g) {
      g = { asset, date, broker: [], sells: [] };
      groups.set(key, g);
    }
    return g;
  };
  for (const row of brokerRows) group(row.asset, isoDate(row.sold)).broker.push(row);
  for (const sell of sells) group(sell.asset, sell.date).sells.push(sell);

  const unmatchedBrokerRows: UnmatchedBrokerRow[] = [];
  const unmatchedSells: Disposal[] = [];
  const days: ReconciliationDay[] = [];
  let pairedTotal = 0;
  const keys = [...groups.keys()].sort();
  for (const key of keys) {
    const g = groups.get(key)!;
    if (g.sells.length === 0) {
      const reason =
        Number(g.date.slice(0, 4)) === year
          ? `fifo-ledger has no sale of ${g.asset} on ${g.date}`
          : `dated outside ${year}`;
      for (const row of g.broker) unmatchedBrokerRows.push({ row, reason });
    }
    if (g.broker.length === 0) unmatchedSells.push(...g.sells);
    const free = [...g.sells];
    let paired = 0;
    for (const row of g.broker) {
      const at = free.findIndex((s) => s.quantity === row.quantity);
      if (at >= 0) {
        free.splice(at, 1);
        paired++;
      }
    }
    pairedTotal += paired;
    const sum = <T>(items: readonly T[], value: (t: T) => bigint) =>
      items.reduce((total, item) => total + value(item), 0n);
    const brokerQuantity = sum(g.broker, (r) => r.quantity);
    const fifoQuantity = sum(g.sells, (s) => s.quantity);
    const brokerProceeds = sum(g.broker, (r) => r.proceeds);
    const fifoProceeds = sum(g.sells, (s) => s.proceeds);
    const everyBasis = g.broker.length > 0 && g.broker.every((r) => r.costBasis !== null);
    const brokerBasis = everyBasis ? sum(g.broker, (r) => r.costBasis!) : null;
    const fifoBasis = sum(g.sells, (s) => s.costBasis);
    days.push({
      asset: g.asset,
      date: g.date,
      brokerRows: g.broker.length,
      sells: g.sells.length,
      pairedByQuantity: paired,
      brokerQuantity,
      fifoQuantity,
      brokerProceeds,
      fifoProceeds,
      brokerBasis,
      fifoBasis,
      fifoMissingBasis: g.sells.some((s) => s.missingBasis),
      quantityDifference: brokerQuantity - fifoQuantity,
      proceedsDifference: brokerProceeds - fifoProceeds,
      basisDifference: brokerBasis === null ? null : brokerBasis - fifoBasis,
    });
  }
  return {
    brokerRows: brokerRows.length,
    sells: sells.length,
    pairedByQuantity: pairedTotal,
    unmatchedBrokerRows,
    unmatchedSells,
    days,
  };
}

/** True when the day differs in anything: quantity, proceeds or a reported basis. */
export const dayDiffers = (day: ReconciliationDay): boolean =>
  day.quantityDifference !== 0n || day.proceedsDifference !== 0n || (day.basisDifference ?? 0n) !== 0n;
