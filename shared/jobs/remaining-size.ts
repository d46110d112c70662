/**
 * trade_records.remaining_size mirrors each buy's lot. The column is float8 in the bot's
 * schema, so it is compared as a float: only values that would change are written.
 */
import { formatQty, type Lot } from '../fifo/index.ts';

type StoredBuy = { orderId: string; stored: string | null };
type RemainingUpdate = { orderId: string; remaining: string };

export function remainingSizeUpdates(buys: readonly StoredBuy[], lots: readonly Lot[]): RemainingUpdate[] {
  return remainingSizeUpdatesOf(buys, new Map(lots.map((lot) => [lot.buyOrderId, formatQty(lot.remaining)])));
}

/** The same, from each lot's remaining size already formatted (by buy order id). */
export function remainingSizeUpdatesOf(
  buys: readonly StoredBuy[],
  remaining: ReadonlyMap<string, string>,
): RemainingUpdate[] {
  const updates: RemainingUpdate[] = [];
  for (const buy of buys) {
    const value = remaining.get(buy.orderId);
    if (value === undefined) continue;
    // A float column compared as a float: this is the column's own precision, not money math.
    if (buy.stored !== null && Number.parseFloat(buy.stored) === Number.parseFloat(value)) continue;
    updates.push({ orderId: buy.orderId, remaining: value });
  }
  return updates;
}
