/**
 * trade_records.remaining_size mirrors each buy's lot. The column is float8 in the bot's
 * schema, so it is compared as a float: only values that would change are written. Every
 * write goes through one statement, RemainingSizeStage.apply (db/remaining-stage.ts).
 */

type StoredBuy = { readonly orderId: string; readonly stored: string | null };
export type RemainingUpdate = { readonly orderId: string; readonly remaining: string };

/** The updates for these buys, from each lot's remaining size already formatted (by buy order id). */
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
