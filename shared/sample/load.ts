/** Writing sample trades into trade_records the way the bot does: plain INSERTs. */
import type pg from 'pg';
import type { SampleTrade } from './generator.ts';

/** Inserts trades in batches (multi-row INSERT ... SELECT FROM unnest), as status 'filled'. */
export async function insertTrades(
  client: pg.ClientBase | pg.Pool,
  trades: readonly SampleTrade[],
  batchSize = 5_000,
) {
  for (let start = 0; start < trades.length; start += batchSize) {
    const batch = trades.slice(start, start + batchSize);
    const column = (key: keyof SampleTrade) => batch.map((t) => t[key]);
    await client.query(
      `INSERT INTO trade_records (order_id, symbol, side, order_time, price, size, total_fees_usd, status, "trigger",
                                  source, ingest_via)
       SELECT u.order_id, u.symbol, u.side, u.order_time::timestamptz, u.price::double precision,
              u.size::double precision, u.fee::double precision, 'filled', '{"trigger": "sample"}'::jsonb,
              'sample', 'import'
       FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS u(order_id, symbol, side, order_time, price, size, fee)`,
      [
        column('order_id'),
        column('symbol'),
        column('side'),
        column('order_time'),
        column('price'),
        column('size'),
        column('fee'),
      ],
    );
  }
}
