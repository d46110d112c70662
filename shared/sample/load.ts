/** Writing sample trades into trade_records the way the bot does: plain INSERTs. */
import type pg from 'pg';
import type { SampleTrade } from './generator.ts';

/**
 * What marks a row of trade_records as a sample (its ingest_via): the demo deletes and checks
 * for these rows only. The bot writes websocket, rest, manual or import there.
 */
export const SAMPLE_MARKER = 'sample';

/**
 * Inserts trades in batches (multi-row INSERT ... SELECT FROM unnest), as status 'filled',
 * trigger {"trigger": name} (or {} without one), the trade's source, and ingest_via 'sample'.
 */
export async function insertTrades(
  client: pg.ClientBase | pg.Pool,
  trades: readonly SampleTrade[],
  batchSize = 5_000,
) {
  for (let start = 0; start < trades.length; start += batchSize) {
    const batch = trades.slice(start, start + batchSize);
    const column = (key: keyof SampleTrade) => batch.map((t) => t[key] ?? null);
    await client.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status, "trigger",
                                  source, ingest_via)
       SELECT u.order_id, u.symbol, u.side, u.order_time::timestamptz, u.price::double precision,
              u.size::double precision, u.fee::double precision, 'filled',
              CASE WHEN u.trg IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('trigger', u.trg) END,
              u.source, $10
       FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::varchar[])
         AS u(order_id, symbol, side, order_time, price, size, fee, trg, source)`,
      [
        column('order_id'),
        column('symbol'),
        column('side'),
        column('order_time'),
        column('price'),
        column('size'),
        column('fee'),
        column('trigger'),
        column('source'),
        SAMPLE_MARKER,
      ],
    );
  }
}
