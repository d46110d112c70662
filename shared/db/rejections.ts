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

/** Replaces the whole list (a full rebuild saw every trade). */
export async function replaceRejections(
  client: pg.ClientBase,
  rejected: readonly RejectedTrade[],
): Promise<void> {
  await client.query('DELETE FROM fifo_rejected_trades WHERE NOT (order_id = ANY($1::varchar[]))', [
    rejected.map((r) => r.orderId),
  ]);
  await recordRejections(client, rejected);
}
