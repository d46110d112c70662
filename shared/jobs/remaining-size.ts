/**
 * trade_records.remaining_size mirrors each buy's lot. The column is float8 in the bot's
 * schema, so it is compared as a float: only values that would change are written.
 */
import { formatQty, type Lot } from '../fifo/index.ts';

export function remainingSizeUpdates(
  buys: readonly { orderId: string; stored: string | null }[],
  lots: readonly Lot[],
): { orderId: string; remaining: string }[] {
  const remaining = new Map(lots.map((lot) => [lot.buyOrderId, formatQty(lot.remaining)]));
  const updates: { orderId: string; remaining: string }[] = [];
  for (const buy of buys) {
    const value = remaining.get(buy.orderId);
    if (value === undefined) continue;
    // A float column compared as a float: this is the column's own precision, not money math.
    if (buy.stored !== null && Number.parseFloat(buy.stored) === Number.parseFloat(value)) continue;
    updates.push({ orderId: buy.orderId, remaining: value });
  }
  return updates;
}
