/**
 * trade_records.remaining_size mirrors each buy's lot. The column is float8 in the bot's
 * schema, so it is compared as a float: only values that would change are written. Every
 * write goes through one statement, RemainingSizeStage.apply (db/remaining-stage.ts).
 */

import type { LotRow } from '../fifo/index.ts';

type StoredBuy = { readonly orderId: string; readonly stored: string | null };
/** A buy's new mirror value, with its time: the stage writes them in time order (db/remaining-stage.ts). */
export type RemainingUpdate = {
  readonly orderId: string;
  readonly remaining: string;
  readonly buyTime: string;
};

/** The updates for these buys, from their lots' rows (by buy order id). */
export function remainingSizeUpdatesOf(
  buys: readonly StoredBuy[],
  lots: ReadonlyMap<string, LotRow>,
): RemainingUpdate[] {
  const updates: RemainingUpdate[] = [];
  for (const buy of buys) {
    const lot = lots.get(buy.orderId);
    if (lot === undefined) continue;
    const value = lot.remaining_size;
    // A float column compared as a float: this is the column's own precision, not money math.
    if (buy.stored !== null && Number.parseFloat(buy.stored) === Number.parseFloat(value)) continue;
    updates.push({ orderId: buy.orderId, remaining: value, buyTime: lot.buy_time });
  }
  return updates;
}
