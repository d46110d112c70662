/** fifo_rejected_trades: trades excluded from FIFO, with the reason, until corrected. */
import type pg from 'pg';
import type { RejectedTrade } from './trades.ts';

export async function recordRejections(
  client: pg.ClientBase,
  rejected: readonly RejectedTrade[],
): Promise<void> {
  if (rejected.length === 0) return;
  await client.query(
    `INSERT INTO fifo_rejected_trades (order_id, symbol, reason)
     SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::text[])
     ON CONFLICT (order_id) DO UPDATE SET symbol = EXCLUDED.symbol, reason = EXCLUDED.reason, last_seen_at = now()`,
    [rejected.map((r) => r.orderId), rejected.map((r) => r.symbol), rejected.map((r) => r.reason)],
  );
}

/** Clears rejections of these trades that are no longer rejected (corrected or deleted). */
export async function clearRejections(
  client: pg.ClientBase,
  orderIds: readonly string[],
  stillRejected: readonly string[],
): Promise<void> {
  if (orderIds.length === 0) return;
  await client.query(
    // Fill rows never reach the trade source; only a full rebuild judges them.
    `DELETE FROM fifo_rejected_trades WHERE order_id = ANY($1::varchar[]) AND NOT (order_id = ANY($2::varchar[]))
       AND order_id !~ '-FILL-[0-9]+$'`,
    [orderIds, stillRejected],
  );
}

/**
 * Replaces the list of the symbols a rebuild saw every trade of: all of them (null), or a
 * partition's. A partition leaves per-fill rows alone: only the whole run judges those
 * (db/trades.ts orphanFills), in replaceFillRejections.
 */
export async function replaceRejections(
  client: pg.ClientBase,
  rejected: readonly RejectedTrade[],
  symbols: readonly string[] | null = null,
): Promise<void> {
  await client.query(
    `DELETE FROM fifo_rejected_trades WHERE NOT (order_id = ANY($1::varchar[]))
       AND ($2::varchar[] IS NULL OR (symbol = ANY($2::varchar[]) AND order_id !~ '-FILL-[0-9]+$'))`,
    [rejected.map((r) => r.orderId), symbols],
  );
  await recordRejections(client, rejected);
}

/**
 * After a partitioned rebuild: the per-fill rows without their order row (orphanFills) are
 * the rejections of fill rows, and rejections of symbols no partition covered are gone.
 */
export async function replaceFillRejections(
  client: pg.ClientBase,
  orphans: readonly RejectedTrade[],
  covered: readonly string[],
): Promise<void> {
  await client.query(
    `DELETE FROM fifo_rejected_trades WHERE NOT (order_id = ANY($1::varchar[]))
       AND (order_id ~ '-FILL-[0-9]+$' OR NOT (symbol = ANY($2::varchar[])))`,
    [orphans.map((r) => r.orderId), covered],
  );
  await recordRejections(client, orphans);
}
